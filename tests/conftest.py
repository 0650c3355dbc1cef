import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "fixtures" / "sample"


def write_files(folder: Path, files: dict[str, str | bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


@pytest.fixture
def make_workspace(tmp_path):
    """Write small files into a fresh folder and return the folder."""
    counter = iter(range(1000))

    def make(files: dict[str, str | bytes]) -> Path:
        return write_files(tmp_path / f"ws{next(counter)}", files)

    return make


@pytest.fixture
def sample_copy(tmp_path):
    """A private copy of the bundled sample workspace (tests may write into it)."""
    if not SAMPLE.is_dir():
        pytest.skip("the sample workspace has not been generated")
    return Path(shutil.copytree(SAMPLE, tmp_path / "sample"))


@pytest.fixture
def add_analysis(monkeypatch):
    """Register made-up analyses (group "test") for one test; they are gone after it."""
    from core.registry import model

    monkeypatch.setitem(model.GROUPS, "test", model.Group("test", "Tests", "Made-up analyses for tests"))

    def add(analysis):
        monkeypatch.setitem(model.ANALYSES, analysis.kind, analysis)
        return model.register(analysis)

    return add


@pytest.fixture(scope="session")
def spark():
    """One Spark session in local mode for the whole run (core.engines.spark_session: local[2],
    few shuffle partitions); skipped, saying why, only where Java or PySpark is absent."""
    pytest.importorskip("pyspark", reason="Spark tests need pyspark (pip install 'loyalist[engines]')")
    pytest.importorskip("ibis", reason="engine tests need ibis-framework (pip install 'loyalist[engines]')")
    import os

    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("Java is not installed (.ci/run installs Debian's openjdk-17-jre-headless)")
    from core.engines import spark_session

    return spark_session()
