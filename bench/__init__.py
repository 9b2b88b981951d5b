"""failgraph's benchmarks and the synthetic data they run on (installed as ``failgraph.bench``).

Each benchmark measures failgraph against its baseline in the same run and returns a pydantic report (figures, never
pass/fail); the ``failgraph bench`` commands print and save them. Nothing in the runtime imports this package: it uses
only the public names of ``kg``, ``ingest`` and ``assistant``.

* :mod:`.vectors` — faiss exact search, the index failgraph picks and numpy brute force;
* :mod:`.sparql` — the study's named queries on Oxigraph against rdflib;
* :mod:`.embed` — MiniLM embedding throughput per device;
* :mod:`.e2e` — generation, build, loading and ``diagnose`` end to end over a synthetic corpus;
* :mod:`.latency` — ``diagnose`` latency on real case reports;
* :mod:`.synthetic` — seeded synthetic records, cases, documents and vectors made from the real data;
* :mod:`.measure` — timing, memory and percentile helpers they share.
"""
