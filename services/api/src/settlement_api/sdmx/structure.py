"""The SDMX structure of the export (pure): code lists, concepts, the data structure
definition (DSD) and the dataflow, built from the catalogue as pysdmx model objects.

One observation is one target's settled volume over one period:

- dimensions FREQ (A: the target's window, M: a month of it), TARGET (the catalogue's
  codes), CURRENCY (the target's currency, the figure's), UNIT (UNITS: currency units, the
  exact figure of /v1/progress `settled`; YI: 亿 = 10^8 units, the plan's unit, as
  `settled_plan_unit`), TIME_PERIOD (2020, 2020-01);
- measure OBS_VALUE (a decimal; NaN where disclosure control withholds it);
- attributes OBS_STATUS and CONF_STATUS, with the codes of the SDMX cross-domain code lists
  CL_OBS_STATUS (A normal, P provisional) and CL_CONF_STATUS (F free, C confidential,
  D secondary confidentiality set by the sender).

The targets overlap (an event may count toward several), so no observation is a sum of
other targets; the only additive relation is a window's A value = the sum of its months.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from pysdmx.model import (
    Code,
    Codelist,
    Component,
    Components,
    Concept,
    ConceptScheme,
    Dataflow,
    DataStructureDefinition,
    DataType,
    Role,
)
from pysdmx.model.dataflow import Schema

from settlement_core.catalogue import Catalogue

AGENCY: Final = "SETTLEMENT"
VERSION: Final = "1.0"
FLOW_ID: Final = "SETTLEMENT_PROGRESS"
DSD_ID: Final = "DSD_SETTLEMENT_PROGRESS"
CONCEPTS_ID: Final = "CS_SETTLEMENT"
DIMENSIONS: Final = ("FREQ", "TARGET", "CURRENCY", "UNIT", "TIME_PERIOD")
ATTRIBUTES: Final = ("OBS_STATUS", "CONF_STATUS")
MEASURE: Final = "OBS_VALUE"
# What an observation withheld by disclosure control carries in OBS_VALUE: SDMX's missing
# numeric value (an empty cell would mean "not reported" to a receiver merging updates).
WITHHELD: Final = "NaN"


class Freq(StrEnum):
    ANNUAL = "A"
    MONTHLY = "M"


class Unit(StrEnum):
    UNITS = "UNITS"
    YI = "YI"


class ObsStatus(StrEnum):
    NORMAL = "A"
    PROVISIONAL = "P"


class ConfStatus(StrEnum):
    FREE = "F"
    CONFIDENTIAL = "C"
    SECONDARY = "D"


FREQ_NAMES = {Freq.ANNUAL: "Annual (the target's window)", Freq.MONTHLY: "Monthly"}
UNIT_NAMES = {
    Unit.UNITS: "Units of the currency (exact, as /v1/progress settled)",
    Unit.YI: "Hundred million (亿) units of the currency, the plan's unit (4 decimals)",
}
OBS_STATUS_NAMES = {ObsStatus.NORMAL: "Normal value", ObsStatus.PROVISIONAL: "Provisional value"}
CONF_STATUS_NAMES = {
    ConfStatus.FREE: "Free",
    ConfStatus.CONFIDENTIAL: "Confidential statistical information",
    ConfStatus.SECONDARY: "Secondary confidentiality set by the sender, not for publication",
}
CONCEPT_NAMES = {
    "FREQ": "Frequency",
    "TARGET": "Settlement target of the plan",
    "CURRENCY": "Currency of the figure",
    "UNIT": "Unit of measure",
    "TIME_PERIOD": "Time period",
    "OBS_VALUE": "Settled volume",
    "OBS_STATUS": "Observation status",
    "CONF_STATUS": "Confidentiality status",
}

CONCEPT_TYPES = {"TIME_PERIOD": DataType.REP_TIME_PERIOD, MEASURE: DataType.DECIMAL}


def _codelist(list_id: str, name: str, codes: Sequence[tuple[str, str]]) -> Codelist:
    return Codelist(id=list_id, agency=AGENCY, version=VERSION, name=name, items=[Code(id=c, name=n) for c, n in codes])


def _concept(concept_id: str, dtype: DataType = DataType.STRING) -> Concept:
    return Concept(
        id=concept_id,
        name=CONCEPT_NAMES[concept_id],
        dtype=dtype,
        urn=f"urn:sdmx:org.sdmx.infomodel.conceptscheme.Concept={AGENCY}:{CONCEPTS_ID}({VERSION}).{concept_id}",
    )


@dataclass(frozen=True, slots=True)
class Structure:
    """Every artefact of the export, and the schema its data messages are written with."""

    codelists: tuple[Codelist, ...]
    concepts: ConceptScheme
    dsd: DataStructureDefinition
    dataflow: Dataflow
    targets: frozenset[str]
    currencies: frozenset[str]

    def writing_schema(self) -> Schema:
        """The DSD's schema with OBS_VALUE typed as text for the writer: pysdmx 1.21 casts a
        Decimal measure to float64 (PandasDataset._apply_dtypes), which would round the
        5万亿 target's figures with cents (16 significant digits) and print 1.687e+11; the
        exact decimal strings of /v1/progress go to the wire instead. The DSD published
        by /v1/sdmx/structure keeps Decimal."""
        components = [
            Component(
                id=c.id,
                required=c.required,
                role=c.role,
                concept=_concept(MEASURE, DataType.STRING) if c.id == MEASURE else c.concept,
                local_codes=c.local_codes,
                attachment_level=c.attachment_level,
            )
            for c in self.dsd.components
        ]
        return Schema(
            context="dataflow",
            agency=AGENCY,
            id=FLOW_ID,
            version=VERSION,
            components=Components(components),
            artefacts=(),
        )


def build_structure(catalogue: Catalogue) -> Structure:
    targets: dict[str, str] = {}
    for target in catalogue.targets:
        targets.setdefault(target.code, f"{target.name_en} ({target.name_zh})")
    currencies = sorted({t.currency for t in catalogue.targets})
    lists = {
        "FREQ": _codelist("CL_FREQ", "Frequency", [(f.value, FREQ_NAMES[f]) for f in Freq]),
        "TARGET": _codelist("CL_TARGET", "Settlement targets", sorted(targets.items())),
        "CURRENCY": _codelist("CL_CURRENCY", "Currency", [(c, c) for c in currencies]),
        "UNIT": _codelist("CL_UNIT", "Unit of measure", [(u.value, UNIT_NAMES[u]) for u in Unit]),
        "OBS_STATUS": _codelist(
            "CL_OBS_STATUS", "Observation status", [(s.value, OBS_STATUS_NAMES[s]) for s in ObsStatus]
        ),
        "CONF_STATUS": _codelist(
            "CL_CONF_STATUS", "Confidentiality status", [(s.value, CONF_STATUS_NAMES[s]) for s in ConfStatus]
        ),
    }
    components = [
        Component(id=d, required=True, role=Role.DIMENSION, concept=_concept(d), local_codes=lists[d])
        for d in DIMENSIONS[:-1]
    ]
    components.append(
        Component(
            id="TIME_PERIOD",
            required=True,
            role=Role.DIMENSION,
            concept=_concept("TIME_PERIOD", CONCEPT_TYPES["TIME_PERIOD"]),
        )
    )
    components += [
        Component(
            id=a, required=True, role=Role.ATTRIBUTE, concept=_concept(a), local_codes=lists[a], attachment_level="O"
        )
        for a in ATTRIBUTES
    ]
    components.append(
        Component(id=MEASURE, required=False, role=Role.MEASURE, concept=_concept(MEASURE, CONCEPT_TYPES[MEASURE]))
    )
    dsd = DataStructureDefinition(
        id=DSD_ID,
        agency=AGENCY,
        version=VERSION,
        name="Settled volume toward the plan's settlement targets",
        components=Components(components),
    )
    dataflow = Dataflow(
        id=FLOW_ID,
        agency=AGENCY,
        version=VERSION,
        name="Progress toward the settlement targets (as /v1/progress)",
        structure=dsd,
    )
    concepts = ConceptScheme(
        id=CONCEPTS_ID,
        agency=AGENCY,
        version=VERSION,
        name="Settlement statistics concepts",
        items=[_concept(c, CONCEPT_TYPES.get(c, DataType.STRING)) for c in CONCEPT_NAMES],
    )
    return Structure(tuple(lists.values()), concepts, dsd, dataflow, frozenset(targets), frozenset(currencies))
