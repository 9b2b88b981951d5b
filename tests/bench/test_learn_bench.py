from typer.testing import CliRunner

from failgraph.bench.learn import bench_learn
from failgraph.ui.cli import app


def test_bench_learn_measures_adding_one_issue(tmp_path):
    rep = bench_learn(100, adds=2, workdir=tmp_path)
    assert rep.size == 100 and rep.adds == 2
    assert 0 < rep.add_median_s <= rep.add_max_s
    assert rep.learned_found  # the last learned issue is found by its own text, without a rebuild
    assert rep.open_learned_s > 0 and rep.apply_per_issue_s >= 0


def test_bench_learn_command_prints_the_figures(tmp_path):
    r = CliRunner().invoke(app, ["bench", "learn", "--size", "100", "--adds", "1", "--workdir", str(tmp_path),
                                 "--json"])
    assert r.exit_code == 0, r.output
    assert '"add_median_s"' in r.stdout and '"size":100' in r.stdout.replace(" ", "")
