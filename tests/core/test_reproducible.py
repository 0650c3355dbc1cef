"""Every model gives the same figures to the last digit when run again on the same data
(issue 20: three `predict clv` runs gave three correlations)."""

import pytest

from core.registry.run import run_analysis
from core.workspace import Workspace
from tests.conftest import SAMPLE


def figures(result):
    """Headline and every table, compared exactly (floats by their bits, through repr)."""
    return ({k: repr(v) for k, v in result.headline.items()},
            {name: table.rows() for name, table in result.tables.items()})


@pytest.mark.parametrize("kind", ["predict.clv", "predict.churn", "predict.drivers"])
def test_each_model_run_twice_gives_identical_figures(kind):
    if not SAMPLE.is_dir():
        pytest.skip("the sample workspace has not been generated")
    runs = [figures(run_analysis(kind, Workspace.open(SAMPLE))) for _ in range(3)]
    assert runs[1] == runs[0] and runs[2] == runs[0]
