"""Shared by the serving benchmarks: a real endpoint process, SigV4-signed requests, and a
deployed campaign on synthetic data.

Setup is honest but fast: the schemas, dataset group, datasets, Items import (a CSV in the
endpoint's S3 and CreateDatasetImportJob), filter, event tracker, solution and campaign go
through the API (boto3 against the endpoint); the model is trained in a child process with
the recipe's own train() on synthetic interactions (one epoch) and registered as an ACTIVE
solution version (what the training task would write), because training on 50k synthetic
interactions through CreateSolutionVersion would only measure setup.
"""
from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import Endpoint, wait_for  # noqa: E402  (the same server the tests use)

RESULTS = ROOT / "bench" / "results"
RECIPE = "arn:aws:personalize:::recipe/aws-user-personalization"
ROLE = "arn:aws:iam::000000000000:role/PersonalizeRole"
GENRES = ["comedy", "drama", "action", "horror", "documentary", "family", "scifi", "romance"]

ITEMS_SCHEMA = {"type": "record", "name": "Items", "namespace":
                "com.amazonaws.personalize.schema", "version": "1.0", "fields": [
                    {"name": "ITEM_ID", "type": "string"},
                    {"name": "GENRE", "type": "string", "categorical": True}]}
INTERACTIONS_SCHEMA = {"type": "record", "name": "Interactions", "namespace":
                       "com.amazonaws.personalize.schema", "version": "1.0", "fields": [
                           {"name": "USER_ID", "type": "string"},
                           {"name": "ITEM_ID", "type": "string"},
                           {"name": "EVENT_TYPE", "type": "string"},
                           {"name": "TIMESTAMP", "type": "long"}]}


class SignedClient:
    """One keep-alive-capable HTTP connection, each request signed as boto3 signs it."""

    def __init__(self, url: str, service: str, region: str = "us-east-1"):
        self.url = url
        parsed = urlparse(url)
        self.host, self.port = parsed.hostname, parsed.port
        self.signer = SigV4Auth(Credentials("testing", "testing"), service, region)
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)

    def post(self, path: str, body: dict) -> tuple[int, dict]:
        data = json.dumps(body)
        request = AWSRequest("POST", self.url + path, data=data,
                             headers={"Content-Type": "application/json"})
        self.signer.add_auth(request)
        try:
            self.connection.request("POST", path, body=data, headers=dict(request.headers))
            response = self.connection.getresponse()
        except (http.client.HTTPException, OSError):   # the server closed the connection
            self.connection.close()
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
            self.connection.request("POST", path, body=data, headers=dict(request.headers))
            response = self.connection.getresponse()
        payload = response.read()
        return response.status, json.loads(payload) if payload else {}


def start_endpoint(data_dir: Path | None = None, root: Path = ROOT,
                   env: dict | None = None) -> Endpoint:
    data_dir = data_dir or Path(tempfile.mkdtemp(prefix="personalize-bench-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    return Endpoint(data_dir, env={"PERSONALIZE_SETTLE_SECONDS": "0.01", **(env or {})},
                    root=root).start()


class Checkout:
    """An older commit of this repository in a temporary worktree, so that a benchmark can
    run it as the baseline beside the current code in the same run."""

    def __init__(self, revision: str):
        self.revision = revision
        self.path = Path(tempfile.mkdtemp(prefix="personalize-baseline-")) / "tree"

    def __enter__(self) -> Path:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q",
                        str(self.path), self.revision], check=True)
        return self.path

    def __exit__(self, *exc):
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                        str(self.path)], check=False)


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc): the cost of requests in
    CPU time, which other load on a shared machine does not inflate as it does wall time."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    values = np.asarray(samples_ms)
    return {"p50_ms": float(np.percentile(values, 50)), "p90_ms": float(np.percentile(values, 90)),
            "p99_ms": float(np.percentile(values, 99)), "mean_ms": float(values.mean())}


class CpuSteal:
    """Share of CPU time the hypervisor gave to other guests while the block ran (Linux
    /proc/stat 'steal'): on a shared VM it is what makes tail latencies move between
    runs of the same code (seen here: 2% in one run, 25% in the next), so latency tables
    carry it. None where /proc/stat has no steal column."""

    def __enter__(self):
        self._start = self._read()
        self.percent = None
        return self

    def __exit__(self, *exc):
        end = self._read()
        if self._start and end:
            total = sum(end) - sum(self._start)
            self.percent = 100.0 * (end[7] - self._start[7]) / total if total else 0.0

    @staticmethod
    def _read() -> list[int] | None:
        try:
            fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
        except OSError:
            return None
        return [int(f) for f in fields[:8]] if len(fields) >= 8 else None


def save(name: str, payload: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2))
    return path


def print_table(headers: list[str], rows: list[list]) -> None:
    cells = [[str(h) for h in headers]] + [[f"{c:.2f}" if isinstance(c, float) else str(c)
                                            for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for n, row in enumerate(cells):
        print("  ".join(c.rjust(w) for c, w in zip(row, widths)))
        if n == 0:
            print("  ".join("-" * w for w in widths))


# -- a deployed campaign --------------------------------------------------------------------
def synthetic_interactions(n_items: int, n_users: int, n_interactions: int, seed: int = 0):
    """Zipf-like popularity over items, users with a few favourite genres' worth of items."""
    rng = np.random.default_rng(seed)
    users = rng.integers(0, n_users, n_interactions)
    ranks = np.minimum((rng.pareto(1.2, n_interactions) * n_items / 50).astype(np.int64),
                       n_items - 1)
    items = rng.permutation(n_items)[ranks]
    timestamps = 1.7e9 + np.sort(rng.uniform(0, 90 * 86400, n_interactions))
    return ([f"u{u}" for u in users], [f"i{i}" for i in items], timestamps)


def synthetic_items(n_items: int) -> tuple[np.ndarray, np.ndarray]:
    """(item ids, a genre each), the same on every call."""
    genre_of = np.random.default_rng(1).integers(0, len(GENRES), n_items)
    return (np.array([f"i{i}" for i in range(n_items)], dtype=object),
            np.array(GENRES, dtype=object)[genre_of])


def import_items(endpoint: Endpoint, dataset_arn: str, n_items: int, tag: str) -> None:
    """The Items rows as a user of a large catalogue loads them: a CSV uploaded to S3 (the
    endpoint's own) and a dataset import job."""
    s3, personalize = endpoint.client("s3"), endpoint.client("personalize")
    path = Path(tempfile.mkdtemp(prefix="bench-items-")) / "items.csv"
    ids, genres = synthetic_items(n_items)
    with open(path, "w") as out:
        out.write("ITEM_ID,GENRE\n")
        for start in range(0, n_items, 1_000_000):
            out.writelines(f"{i},{g}\n" for i, g in zip(ids[start:start + 1_000_000],
                                                      genres[start:start + 1_000_000]))
    bucket = f"{tag}-items".lower()
    s3.create_bucket(Bucket=bucket)
    s3.upload_file(str(path), bucket, "items.csv")
    path.unlink()
    job = personalize.create_dataset_import_job(
        jobName=f"{tag}-items", datasetArn=dataset_arn, roleArn=ROLE,
        dataSource={"dataLocation": f"s3://{bucket}/items.csv"})["datasetImportJobArn"]
    status = wait_for(lambda: personalize.describe_dataset_import_job(
        datasetImportJobArn=job), ["datasetImportJob", "status"], timeout=1800)
    assert status == "ACTIVE", personalize.describe_dataset_import_job(datasetImportJobArn=job)


def deploy(endpoint: Endpoint, n_items: int, n_users: int = 2000,
           n_interactions: int = 50_000, epochs: str = "1", tag: str | None = None) -> dict:
    """Everything a GetRecommendations needs; returns the ARNs and timings. The Items rows
    and the model are written by a child process (build_model_and_items): at 10M items
    training holds E, F and z (17 GB), which must be gone before the server loads the model
    on the same machine."""
    from chalicelib.backend import build_backend
    from chalicelib.config import Settings
    from chalicelib.records import kinds

    tag = tag or f"b{n_items}-{uuid.uuid4().hex[:6]}"
    personalize = endpoint.client("personalize")
    started = time.perf_counter()
    group = personalize.create_dataset_group(name=f"{tag}-group")["datasetGroupArn"]
    wait_for(lambda: personalize.describe_dataset_group(datasetGroupArn=group),
             ["datasetGroup", "status"])
    datasets = {}
    for dataset_type, schema in (("Interactions", INTERACTIONS_SCHEMA), ("Items", ITEMS_SCHEMA)):
        schema_arn = personalize.create_schema(name=f"{tag}-{dataset_type}",
                                               schema=json.dumps(schema))["schemaArn"]
        arn = personalize.create_dataset(name=f"{tag}-{dataset_type}", schemaArn=schema_arn,
                                         datasetGroupArn=group,
                                         datasetType=dataset_type)["datasetArn"]
        wait_for(lambda: personalize.describe_dataset(datasetArn=arn), ["dataset", "status"])
        datasets[dataset_type] = arn
    import_items(endpoint, datasets["Items"], n_items, tag)
    solution = personalize.create_solution(name=f"{tag}-solution", datasetGroupArn=group,
                                           recipeArn=RECIPE)["solutionArn"]
    wait_for(lambda: personalize.describe_solution(solutionArn=solution),
             ["solution", "status"])
    backend = build_backend(Settings(data_dir=endpoint.data_dir))
    prefix = ":".join(group.split(":")[:5])
    version = backend.registry.create(
        kinds.SOLUTION_VERSION, prefix, "v1",
        {"solutionArn": solution, "recipeArn": RECIPE, "datasetGroupArn": group,
         "trainingMode": "FULL", "trainingType": "MANUAL", "eventType": None,
         "performHPO": False, "performAutoML": False, "solutionConfig": {},
         "_eventSeq": backend.events.last_seq(group)},
        status="ACTIVE", arn_name=f"{solution.rsplit('/', 1)[-1]}/v1")
    job = {"model_dir": str(backend.artifacts.model_dir(version["solutionVersionArn"])),
           "n_items": n_items, "n_users": n_users, "n_interactions": n_interactions,
           "epochs": epochs}
    built = subprocess.run([sys.executable, __file__, "--build", json.dumps(job)],
                           check=True, capture_output=True, text=True)
    timings = json.loads(built.stdout.strip().splitlines()[-1])

    campaign = personalize.create_campaign(
        name=f"{tag}-campaign", solutionVersionArn=version["solutionVersionArn"],
        campaignConfig={"enableMetadataWithRecommendations": True})["campaignArn"]
    wait_for(lambda: personalize.describe_campaign(campaignArn=campaign),
             ["campaign", "status"])
    filter_arn = personalize.create_filter(
        name=f"{tag}-genre", datasetGroupArn=group,
        filterExpression="EXCLUDE ItemID WHERE Items.GENRE IN ($GENRES)")["filterArn"]
    wait_for(lambda: personalize.describe_filter(filterArn=filter_arn), ["filter", "status"])
    users, _, _ = synthetic_interactions(n_items, n_users, n_interactions)
    return {"group": group, "campaign": campaign, "filter": filter_arn,
            "datasets": datasets, "n_items": n_items, "model_items": timings["model_items"],
            "model_dir": job["model_dir"], "users": sorted(set(users)),
            "setup_s": time.perf_counter() - started - timings["train_s"],
            "train_s": timings["train_s"], "train_max_rss_gb": timings["max_rss_gb"]}


def build_model_and_items(job: dict) -> dict:
    """The child process of deploy(): the model trained with the recipe's own train() on
    synthetic interactions and the imported Items, written as the training task writes a
    deployment."""
    import resource

    from chalicelib.deployment import user_histories, write_deployment
    from chalicelib.models import get_recipe
    from chalicelib.models.data import Table, TrainingData

    n_items = job["n_items"]
    item_ids, genres = synthetic_items(n_items)
    users, items, timestamps = synthetic_interactions(n_items, job["n_users"],
                                                      job["n_interactions"])
    data = TrainingData.from_interactions(users, items, timestamps,
                                          event_type=np.array(["click"] * len(users),
                                                              dtype=object))
    data.items = Table({"ITEM_ID": item_ids, "GENRE": genres},
                       {"ITEM_ID": "id", "GENRE": "categorical"})
    started = time.perf_counter()
    recipe = get_recipe(RECIPE)
    params = dict(getattr(recipe, "default_hyperparameters", {}) or {})
    # one epoch, no validation: the serving benchmarks measure serving, not the epoch
    params.update(epochs=job["epochs"], early_stopping_patience="0")
    model = recipe.train(data, params, seed=0)
    train_s = time.perf_counter() - started
    write_deployment(Path(job["model_dir"]), model, user_histories(data), data)
    return {"train_s": train_s, "model_items": len(model.item_ids),
            "max_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6}


def deployment(endpoint: Endpoint, n_items: int, data_dir: Path | None) -> dict:
    """deploy(), or the deployment of n_items saved in data_dir by an earlier run (the
    endpoint must serve that data_dir): training the 1M-item model takes minutes."""
    saved = data_dir / f"deployed-{n_items}.json" if data_dir else None
    if saved is not None and saved.exists():
        return json.loads(saved.read_text())
    deployed = deploy(endpoint, n_items)
    if saved is not None:
        saved.write_text(json.dumps(deployed))
    return deployed


def tracker(endpoint: Endpoint, group: str, name: str) -> str:
    """The trackingId of the group's event tracker, created if it has none (a dataset
    group has at most one)."""
    personalize = endpoint.client("personalize")
    existing = personalize.list_event_trackers(datasetGroupArn=group)["eventTrackers"]
    if existing:
        return personalize.describe_event_tracker(
            eventTrackerArn=existing[0]["eventTrackerArn"])["eventTracker"]["trackingId"]
    created = personalize.create_event_tracker(name=name, datasetGroupArn=group)
    wait_for(lambda: personalize.describe_event_tracker(
        eventTrackerArn=created["eventTrackerArn"]), ["eventTracker", "status"])
    return created["trackingId"]


if __name__ == "__main__" and sys.argv[1:2] == ["--build"]:
    print(json.dumps(build_model_and_items(json.loads(sys.argv[2]))))
