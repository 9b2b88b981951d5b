"""The graph home under concurrency: builds that cannot destroy each other, readers that keep their snapshot."""

import contextlib
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from failgraph.ingest.dataset import load_dataset
from failgraph.kg import build as build_mod
from failgraph.kg.build import STORE_DIR, build_graph, open_store
from failgraph.kg.home import MANIFEST, GraphHome, HomeBusy

COUNT = ("PREFIX fg: <https://w3id.org/failgraph/ontology#> "
         "SELECT (COUNT(?r) AS ?n) WHERE { ?r a fg:FailureRecord }")


def count_records(store):
    return store.query(COUNT).records()[0]["n"]


def snapshots(home: GraphHome) -> set[str]:
    return {p.name for p in home.root.glob("snapshot-*")}


def test_two_concurrent_builds_leave_a_complete_graph(tmp_path, dataset_slice, monkeypatch):
    """Both builds reach publication at the same time (the old code then deleted the other's store, and CURRENT could
    name a snapshot holding only its manifest); with the build lock they run one after the other."""
    records = load_dataset(dataset_slice).records
    home = GraphHome(tmp_path)
    build_graph(home, records)  # a previous graph
    both_loaded = threading.Barrier(2, timeout=3)
    published: list[str] = []
    publishing = threading.Lock()
    real_load, real_publish = build_mod.load_store, GraphHome.publish

    def load_then_meet(*a, **kw):
        real_load(*a, **kw)
        with contextlib.suppress(threading.BrokenBarrierError):
            both_loaded.wait()  # the two builds side by side (with the lock, the other is not here: times out)

    def publish_in_turn(self, snapshot, manifest):
        with publishing:
            real_publish(self, snapshot, manifest)
            published.append(snapshot.name)

    monkeypatch.setattr(build_mod, "load_store", load_then_meet)
    monkeypatch.setattr(GraphHome, "publish", publish_in_turn)
    errors: list[BaseException] = []

    def one_build():
        try:
            build_graph(GraphHome(tmp_path), records)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=one_build) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    assert not errors and len(published) == 2
    current = home.current()
    assert current.name == published[-1]
    assert (current / STORE_DIR).is_dir() and (current / MANIFEST).is_file()
    with open_store(home) as store:
        assert count_records(store) == len(records)
    assert snapshots(home) == {current.name}  # the older ones, unpinned, were removed


def test_a_build_fails_cleanly_or_waits_while_another_holds_the_home(tmp_path, dataset_slice):
    records = load_dataset(dataset_slice).records
    home = GraphHome(tmp_path)
    with home.build_lock():
        with pytest.raises(HomeBusy, match="another build"):
            build_graph(GraphHome(tmp_path), records, wait=False)
        with pytest.raises(HomeBusy, match="gave up waiting"):
            build_graph(GraphHome(tmp_path), records, wait=0.3)
        assert not snapshots(home)  # nothing was started
        waited = threading.Event()
        done: list = []
        t = threading.Thread(target=lambda: done.append(build_graph(GraphHome(tmp_path), records,
                                                                    on_wait=waited.set)))
        t.start()
        assert waited.wait(10)
        assert not done  # still waiting for the lock
    t.join(60)
    assert done and home.current().name == Path(done[0].snapshot).name


def test_a_snapshot_a_reader_holds_survives_publishes(tmp_path, dataset_slice):
    records = load_dataset(dataset_slice).records
    home = GraphHome(tmp_path)
    build_graph(home, records)
    store = open_store(home)
    held = home.current()
    build_graph(home, records[:5])
    build_graph(home, records[:7])
    assert home.current() != held and held.is_dir()
    assert count_records(store) == len(records)  # still queryable
    fresh = open_store(home)  # opening collects the unpinned snapshot of the middle build, not the held one
    assert snapshots(home) == {held.name, home.current().name}
    store.close()
    assert home.collect() == [held.name]
    assert snapshots(home) == {home.current().name}
    assert count_records(fresh) == 7
    fresh.close()


def test_a_query_worker_restarted_after_a_rebuild_still_answers(tmp_path, dataset_slice):
    """The SPARQL endpoint's worker processes reopen the snapshot when one is replaced (e.g. after a timeout)."""
    from failgraph.kg.remote import ProcessQueryPool

    records = load_dataset(dataset_slice).records
    home = GraphHome(tmp_path)
    build_graph(home, records)
    store = open_store(home)
    pool = ProcessQueryPool(store.path, workers=1, timeout=30)
    try:
        assert int(pool.query(COUNT).rows[0]["n"].value) == len(records)
        build_graph(home, records[:3])  # a rebuild while serving
        for w in list(pool._all):
            pool._discard(w)  # as a query timeout does
        assert int(pool.query(COUNT).rows[0]["n"].value) == len(records)
    finally:
        pool.close()
        store.close()


@pytest.mark.skipif(sys.platform == "win32", reason="flock")
def test_cli_build_waits_with_a_message_or_fails_in_one_line(tmp_path, dataset_slice):
    home = GraphHome(tmp_path / "home")
    cmd = [sys.executable, "-c", "from failgraph.ui.cli import main; main()", "build", "--dataset",
           str(dataset_slice), "--home", str(home.root), "--no-cases", "--no-index"]
    with home.build_lock():
        r = subprocess.run([*cmd, "--no-wait"], check=False, capture_output=True, text=True, timeout=120)
        assert r.returncode == 2
        assert r.stderr.strip().startswith("error:") and "another build" in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            line = p.stderr.readline()  # the waiting message comes before anything else on stderr
            assert "waiting for another build" in line
            assert p.poll() is None
        except BaseException:
            p.kill()
            raise
    out, _ = p.communicate(timeout=120)
    assert p.returncode == 0 and "built" in out
    with open_store(home) as store:
        assert count_records(store) > 0


def test_a_read_only_home_opens_without_pins(tmp_path, dataset_slice, monkeypatch):
    """A home on a read-only mount: no pin file can be created (nor removed), so the store opens unpinned."""
    import errno

    from failgraph.kg import home as home_mod

    home = GraphHome(tmp_path)
    build_graph(home, load_dataset(dataset_slice).records)
    (home.current() / ".pin").unlink()  # as in a home written before pins existed
    real_open = os.open

    def read_only_open(path, flags, *a, **kw):
        if flags & (os.O_CREAT | os.O_RDWR | os.O_WRONLY):
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, flags, *a, **kw)

    monkeypatch.setattr(home_mod.os, "open", read_only_open)
    with open_store(home) as store:
        assert not store.pin.held and count_records(store) > 0
    assert home.collect() == []
