"""Environment names the services read, derived from their pydantic-settings classes.

Nothing here is a hand-kept list: a field added to a settings class without a default becomes
required in the chart and in docker-compose.yml the moment it exists.
"""

from __future__ import annotations

import importlib
import inspect
import typing
from collections.abc import Iterable

from pydantic import SecretStr
from pydantic.aliases import AliasChoices, AliasPath
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

from settlement_core import secret_box

# What each entry point of the image loads its settings from: `python -m <package>` reads the
# classes of <package>.settings; `settlementctl` reads settlement_core's CoreSettings and
# `settlementctl init` its InitSettings (settlement_ctl.init).
SERVICE_PACKAGES = ("settlement_ingest", "settlement_aggregate", "settlement_api")
# Entry points without a port (nothing to probe): `python -m <module>`, with their settings
# classes named, since their module's settings file holds other processes' classes too.
INTEGRATOR = "settlement_aggregate.integrator"
WORKER_MODULES = (INTEGRATOR,)
CTL_PACKAGE = "settlement_core"
_SETTINGS_MODULES = {
    CTL_PACKAGE: ("settlement_core.settings", "settlement_ctl.init"),
    INTEGRATOR: ("settlement_core.tlog.settings",),
}
_SETTINGS_CLASSES = {INTEGRATOR: frozenset({"TlogSettings"})}
# Read from the environment directly, not through a settings class (secret_box.from_env);
# deploy/lint/secrets_key.py decides who must and must not have them.
DIRECT_ENV = frozenset({secret_box.KEY_ENV, secret_box.PREVIOUS_KEY_ENV})


def settings_classes(package: str) -> list[type[BaseSettings]]:
    """The BaseSettings subclasses defined in `<package>.settings` (for settlementctl also
    those of settlement_ctl.init)."""
    classes: list[type[BaseSettings]] = []
    for name in _SETTINGS_MODULES.get(package, (f"{package}.settings",)):
        module = importlib.import_module(name)
        classes += [
            obj
            for _, obj in inspect.getmembers(module, inspect.isclass)
            if issubclass(obj, BaseSettings)
            and obj is not BaseSettings
            and obj.__module__ == module.__name__
            and (package not in _SETTINGS_CLASSES or obj.__name__ in _SETTINGS_CLASSES[package])
        ]
    return classes


def _env_names(cls: type[BaseSettings], name: str, field: FieldInfo) -> tuple[str, ...]:
    prefix = str(cls.model_config.get("env_prefix", ""))
    alias = field.validation_alias or field.alias
    if isinstance(alias, str):
        return (alias.upper(),)
    if isinstance(alias, AliasChoices):
        return tuple(c.upper() for c in alias.choices if isinstance(c, str))
    if isinstance(alias, AliasPath):
        return (str(alias.path[0]).upper(),)
    return (f"{prefix}{name}".upper(),)


def required_env(classes: Iterable[type[BaseSettings]]) -> set[frozenset[str]]:
    """One set of acceptable names per field without a default (any one name satisfies it)."""
    required: set[frozenset[str]] = set()
    for cls in classes:
        for name, field in cls.model_fields.items():
            if field.is_required():
                required.add(frozenset(_env_names(cls, name, field)))
    return required


def secret_env(classes: Iterable[type[BaseSettings]]) -> set[str]:
    """The names of fields typed SecretStr (keys, tokens): they may only come from a Secret."""
    names: set[str] = set()
    for cls in classes:
        for name, field in cls.model_fields.items():
            annotation = field.annotation
            if annotation is SecretStr or SecretStr in typing.get_args(annotation):
                names.update(_env_names(cls, name, field))
    return names


def known_env(classes: Iterable[type[BaseSettings]]) -> set[str]:
    """Every name any of the classes reads, and the names read directly (DIRECT_ENV)."""
    names = {env for cls in classes for name, field in cls.model_fields.items() for env in _env_names(cls, name, field)}
    return names | DIRECT_ENV


def entrypoint_package(command: list[str]) -> str | None:
    """The package whose settings a container command reads, or None if it is not ours."""
    modules = (*SERVICE_PACKAGES, *WORKER_MODULES)
    if len(command) >= 3 and command[0].endswith("python") and command[1] == "-m" and command[2] in modules:
        return command[2]
    if command and command[0].endswith("settlementctl"):
        return CTL_PACKAGE
    return None


def all_packages() -> tuple[str, ...]:
    return (*SERVICE_PACKAGES, *WORKER_MODULES, CTL_PACKAGE)
