"""The CloudFormation stack lints, and `chalice package` (with the stack merged) gives a
template that parses and lints too."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.deploy.conftest import ROOT

BIN = Path(sys.executable).parent
CFN_LINT = shutil.which("cfn-lint", path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")


class CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation's short forms (!Ref, !Sub, ...) as plain values."""


CfnLoader.add_multi_constructor("!", lambda loader, tag, node: (
    loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode)
    else loader.construct_sequence(node) if isinstance(node, yaml.SequenceNode)
    else loader.construct_mapping(node)))


def cfn_lint(template: Path) -> subprocess.CompletedProcess:
    return subprocess.run([CFN_LINT, str(template)], capture_output=True, text=True,
                          timeout=120)


@pytest.mark.skipif(CFN_LINT is None, reason="cfn-lint is not installed")
def test_stack_passes_cfn_lint():
    result = cfn_lint(ROOT / "infra" / "stack.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_stack_table_keys_match_the_dynamodb_store():
    from chalicelib.storage.dynamodb import TABLE_ATTRIBUTES, TABLE_KEYS
    stack = yaml.load((ROOT / "infra" / "stack.yaml").read_text(), Loader=CfnLoader)
    table = stack["Resources"]["StateTable"]["Properties"]
    assert table["KeySchema"] == TABLE_KEYS
    assert table["AttributeDefinitions"] == TABLE_ATTRIBUTES


@pytest.fixture(scope="module")
def package_project(tmp_path_factory):
    """A copy of the app without its requirements: packaging must not download torch
    (several hundred MB) to check the template."""
    project = tmp_path_factory.mktemp("project")
    shutil.copy(ROOT / "app.py", project)
    shutil.copytree(ROOT / "chalicelib", project / "chalicelib",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / ".chalice", project / ".chalice",
                    ignore=shutil.ignore_patterns("deployments", "venv"))
    (project / "requirements.txt").write_text("")
    return project


def chalice_package(project: Path, out: Path, *args: str) -> None:
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    result = subprocess.run([str(BIN / "chalice"), "package", *args, str(out)], cwd=project,
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("stage", ["local", "localstack", "aws"])
def test_chalice_package_json(package_project, tmp_path, stage):
    chalice_package(package_project, tmp_path / "out", "--stage", stage)
    template = json.loads((tmp_path / "out" / "sam.json").read_text())
    functions = {name: r for name, r in template["Resources"].items()
                 if r["Type"] == "AWS::Serverless::Function"}
    assert {"APIHandler", "AutomaticUpdates", "TrainingTaskStopped"} <= set(functions)
    schedule = functions["AutomaticUpdates"]["Properties"]["Events"]
    assert [e["Properties"]["Schedule"] for e in schedule.values()] == ["rate(2 hours)"]
    variables = functions["APIHandler"]["Properties"]["Environment"]["Variables"]
    expected_store = "sqlite" if stage == "local" else "dynamodb"
    assert variables["PERSONALIZE_STORE"] == expected_store


def test_chalice_package_merged_with_stack(package_project, tmp_path):
    out = tmp_path / "out"
    chalice_package(package_project, out, "--stage", "aws", "--merge-template",
                    str(ROOT / "infra" / "stack.yaml"))
    template = yaml.load((out / "sam.yaml").read_text(), Loader=CfnLoader)
    assert {"StateTable", "ArtifactBucket", "TrainingTaskDefinition",
            "APIHandler"} <= set(template["Resources"])
    handler = template["Resources"]["APIHandler"]["Properties"]
    assert handler["Environment"]["Variables"]["PERSONALIZE_TRAINING_RUNNER"] == "ecs"
    shared = template["Globals"]["Function"]["Environment"]["Variables"]
    assert shared["PERSONALIZE_DYNAMODB_TABLE"] == {"Ref": "StateTable"}
    if CFN_LINT is not None:
        result = cfn_lint(out / "sam.yaml")
        assert result.returncode == 0, result.stdout + result.stderr
