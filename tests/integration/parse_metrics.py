#!/usr/bin/python3
# parse_metrics.py FORMAT FILE: parse FILE with the Prometheus project's
# own Python parsers (Debian's python3-prometheus-client), FORMAT being
# "openmetrics" (the strict OpenMetrics 1.0 parser) or "prometheus"
# (text format 0.0.4).  On success print one line per sample,
# "name{k="v",...} value", labels sorted; on a parse error print it to
# stderr and exit 1.
import sys

from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as parse_openmetrics)
from prometheus_client.parser import (
    text_string_to_metric_families as parse_prometheus)


def main():
    fmt, path = sys.argv[1], sys.argv[2]
    with open(path, encoding="utf-8") as f:
        text = f.read()
    parse = parse_openmetrics if fmt == "openmetrics" else parse_prometheus
    try:
        for fam in parse(text):
            for s in fam.samples:
                labels = ",".join('%s="%s"' % (k, s.labels[k])
                                  for k in sorted(s.labels))
                v = s.value
                if v == int(v):
                    v = int(v)
                print("%s{%s} %s" % (s.name, labels, v))
    except Exception as e:  # the parsers raise ValueError and others
        print("parse error: %s" % e, file=sys.stderr)
        sys.exit(1)


main()
