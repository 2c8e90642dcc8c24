package bridge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpServer;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpServerConfiguration;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultMessage;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * The intake peer: an HTTP to Kafka bridge wired from stock Apache Camel components (the Vert.x
 * HTTP server and the Kafka producer), speaking the Strimzi Kafka HTTP Bridge's produce API:
 *
 * <pre>
 * POST /topics/{topic}   {"records": [{"key": "...", "value": {...}}, ...]}
 *   200 {"offsets": [{"partition": p, "offset": o}, ...]} once Kafka acknowledged every record
 *   422 when the body is not that shape
 * GET /healthy           200
 * </pre>
 *
 * Each record's value is written as the JSON text of "value" (the bridge's "json" embedded
 * format). The producer has our ingest's settings: acks=all, idempotence, linger 2 ms, 512 KiB
 * batches, no compression. Configuration: BRIDGE_PORT, BRIDGE_KAFKA_BOOTSTRAP and, for a broker
 * with authentication, BRIDGE_KAFKA_SECURITY_PROTOCOL, BRIDGE_KAFKA_SASL_MECHANISM and
 * BRIDGE_KAFKA_SASL_JAAS_CONFIG (the `bench` principal, from bench/peers/camel_bridge/runtime.py).
 */
public final class CamelKafkaBridge {
    private static final ObjectMapper JSON = new ObjectMapper();

    private CamelKafkaBridge() {}

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(required("BRIDGE_PORT"));
        String bootstrap = required("BRIDGE_KAFKA_BOOTSTRAP");
        CamelContext context = new DefaultCamelContext();
        VertxPlatformHttpServerConfiguration http = new VertxPlatformHttpServerConfiguration();
        http.setBindHost("127.0.0.1");
        http.setBindPort(port);
        context.addService(new VertxPlatformHttpServer(http));
        context.addRoutes(new Routes(bootstrap + security()));
        context.start();
        Runtime.getRuntime().addShutdownHook(new Thread(context::stop));
        System.out.println("bridge listening on 127.0.0.1:" + port);
        Thread.currentThread().join();
    }

    /** Endpoint options for SASL, empty for a broker without authentication. */
    private static String security() {
        String protocol = System.getenv("BRIDGE_KAFKA_SECURITY_PROTOCOL");
        if (protocol == null || protocol.isEmpty() || protocol.equals("PLAINTEXT")) {
            return "";
        }
        return "&securityProtocol=" + protocol
                + "&saslMechanism=" + required("BRIDGE_KAFKA_SASL_MECHANISM")
                + "&saslJaasConfig=RAW(" + required("BRIDGE_KAFKA_SASL_JAAS_CONFIG") + ")";
    }

    private static String required(String name) {
        String value = System.getenv(name);
        if (value == null || value.isEmpty()) {
            throw new IllegalStateException(name + " is required");
        }
        return value;
    }

    /** A request body that is not {"records": [{"key": text, "value": object}, ...]}. */
    static final class BadRequest extends RuntimeException {
        BadRequest(String message) {
            super(message);
        }
    }

    static final class Routes extends RouteBuilder {
        private final String bootstrap;

        Routes(String bootstrap) {
            this.bootstrap = bootstrap;
        }

        @Override
        public void configure() {
            onException(BadRequest.class, com.fasterxml.jackson.core.JacksonException.class)
                    .handled(true)
                    .process(Routes::toError);

            from("platform-http:/healthy?httpMethodRestrict=GET").setBody(constant(""));

            from("platform-http:/topics/{topic}?httpMethodRestrict=POST")
                    .process(Routes::toRecords)
                    .to("kafka:bridge-default?brokers=" + bootstrap
                            + "&requestRequiredAcks=all&enableIdempotence=true&lingerMs=2"
                            + "&producerBatchSize=524288&compressionCodec=none&recordMetadata=true"
                            + "&batchWithIndividualHeaders=true"
                            + "&keySerializer=org.apache.kafka.common.serialization.StringSerializer"
                            + "&valueSerializer=org.apache.kafka.common.serialization.ByteArraySerializer")
                    .process(Routes::toOffsets);
        }

        /** Parse the request into one Camel message per record, each with its own key and topic. */
        private static void toRecords(Exchange exchange) throws Exception {
            Message in = exchange.getIn();
            String topic = in.getHeader("topic", String.class);
            byte[] body = in.getBody(byte[].class);
            JsonNode records = body == null ? null : JSON.readTree(body).get("records");
            if (records == null || !records.isArray() || records.isEmpty()) {
                throw new BadRequest("records must be a non-empty array");
            }
            List<Message> messages = new ArrayList<>(records.size());
            for (JsonNode record : records) {
                JsonNode value = record.get("value");
                if (value == null || !value.isObject()) {
                    throw new BadRequest("every record needs a JSON object value");
                }
                DefaultMessage message = new DefaultMessage(exchange.getContext());
                JsonNode key = record.get("key");
                if (key != null && !key.isNull()) {
                    message.setHeader(KafkaConstants.KEY, key.asText());
                }
                message.setHeader(KafkaConstants.OVERRIDE_TOPIC, topic);
                message.setBody(JSON.writeValueAsBytes(value));
                messages.add(message);
            }
            // Only the records travel to Kafka, never the HTTP headers of the request.
            in.removeHeaders("*");
            in.setHeader(KafkaConstants.OVERRIDE_TOPIC, topic);
            in.setBody(messages);
        }

        private static void toError(Exchange exchange) throws Exception {
            Exception cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
            ObjectNode answer = JSON.createObjectNode().put("error_code", 422);
            answer.put("message", cause == null ? "invalid request" : cause.getMessage());
            Message in = exchange.getIn();
            in.removeHeaders("*");
            in.setHeader(Exchange.HTTP_RESPONSE_CODE, 422);
            in.setHeader(Exchange.CONTENT_TYPE, "application/vnd.kafka.v2+json");
            in.setBody(JSON.writeValueAsBytes(answer));
        }

        private static void toOffsets(Exchange exchange) throws Exception {
            Message in = exchange.getIn();
            ObjectNode answer = JSON.createObjectNode();
            ArrayNode offsets = answer.putArray("offsets");
            List<?> metadata = in.getHeader(KafkaConstants.KAFKA_RECORD_META, List.class);
            if (metadata != null) {
                for (Object item : metadata) {
                    RecordMetadata meta = (RecordMetadata) item;
                    offsets.addObject().put("partition", meta.partition()).put("offset", meta.offset());
                }
            }
            in.removeHeaders("*");
            in.setHeader(Exchange.HTTP_RESPONSE_CODE, 200);
            in.setHeader(Exchange.CONTENT_TYPE, "application/vnd.kafka.v2+json");
            in.setBody(JSON.writeValueAsBytes(answer));
        }
    }
}
