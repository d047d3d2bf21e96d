"""scripts/reorganize_tests.py: the rewrites it makes when the lead moves the tests."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "reorganize_tests.py"


@pytest.fixture(scope="module")
def reorg() -> ModuleType:
    spec = importlib.util.spec_from_file_location("reorganize_tests", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["reorganize_tests"] = module
    spec.loader.exec_module(module)
    return module


def test_module_names_and_paths_of_moved_modules_are_rewritten(reorg: ModuleType) -> None:
    plan = reorg.Plan({"test_diff_factories": "unit", "test_cli_sync": "e2e"})
    text = (
        "from tests.unit.test_diff_factories import NOW, desired\n"
        "from tests.okta_support import okta_env\n"
        "    from tests import okta_support, test_cli_sync as cs\n"
        'cmd = "python -m tests.e2e.test_cli_sync"\n'
        "see tests/e2e/test_cli_sync.py and tests/test_other.py\n"
        "its `tests/unit/test_diff_factories.py`, not pkg/tests/test_diff_factories.py\n"
    )
    assert reorg.rewrite_references(text, plan) == (
        "from tests.unit.test_diff_factories import NOW, desired\n"
        "from tests.okta_support import okta_env\n"
        "    from tests import okta_support\n"
        "    from tests.e2e import test_cli_sync as cs\n"
        'cmd = "python -m tests.e2e.test_cli_sync"\n'
        "see tests/e2e/test_cli_sync.py and tests/test_other.py\n"
        "its `tests/unit/test_diff_factories.py`, not pkg/tests/test_diff_factories.py\n"
    )


def test_file_relative_paths_go_one_level_deeper(reorg: ModuleType) -> None:
    text = (
        'DATA = Path(__file__).parents[1] / "data"\n'
        "REPO = Path(__file__).resolve().parents[2]\n"
        "HERE = Path(__file__).resolve().parents[1]\n"
        "PKG = Path(botocore.__file__).parent\n"
    )
    assert reorg.deepen_file_paths(text) == (
        'DATA = Path(__file__).parents[2] / "data"\n'
        "REPO = Path(__file__).resolve().parents[3]\n"
        "HERE = Path(__file__).resolve().parents[2]\n"
        "PKG = Path(botocore.__file__).parent\n"
    )
    assert reorg.leftover_file_uses("x = os.path.dirname(__file__)\ny = Path(__file__)\n") == [
        "x = os.path.dirname(__file__)"
    ]


def test_classification(reorg: ModuleType, tmp_path: Path) -> None:
    cases = {
        "test_connector_contract.py": ("", "contract"),
        "test_entra_fake.py": ("", "fakes"),
        "test_service_unit.py": ("", "unit"),
        "test_cli_sync.py": ("", "e2e"),
        "test_anything.py": ("from click.testing import CliRunner\n", "e2e"),
        "test_diff.py": ("from agent.diff import diff_app\n", "unit"),
    }
    for name, (text, kind) in cases.items():
        (tmp_path / name).write_text(text)
        assert reorg.classify(tmp_path / name) == kind, name
