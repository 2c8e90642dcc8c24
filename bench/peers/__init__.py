"""What ours is measured against on the same broker in the same run: Kafka's own perf tools
(the anchors), the intake peer (Apache Camel speaking the Strimzi bridge's produce API) and
the aggregation peer (Quix Streams)."""
