"""Training time as a user meets it, on ML-100K (100,000 interactions, default hyperparameters).

    .venv/bin/python bench/training_time.py [--phases t0 t1 t2 poc] [--requests-per-second 20]
        [--server-env PERSONALIZE_TRAINING_GATHER_SECONDS=0 ...] [--name training_time]

- T0: `get_recipe("aws-user-personalization").train(data, {}, 0, log)` in this process.
- T1: one CreateSolutionVersion -> ACTIVE over HTTP against a started endpoint; its task
  log's first line and longest silence; GetSolutionMetrics (NDCG@10, precision@5).
- T2: two versions created at once, until both are ACTIVE; meanwhile GetRecommendations on a
  campaign of T1's version, its p99 against the same requests with nothing training.
- POC: User-Personalization, SIMS and Personalized-Ranking versions created at once, against
  the sum of each alone (User-Personalization alone is T1).

Targets: T1 <= 1.3 x T0, T2 <= 2.2 x T1, POC <= 1.1 x the sum, p99 during training <= 2 x idle.
The machine may be shared: every figure carries the load average and the CPU steal of the
interval it was measured in, and the targets are ratios of figures from the same run.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.serving_setup import (CpuSteal, SignedClient, percentiles, print_table,  # noqa: E402
                                 save)
from tests.conftest import SHARED_DATA, Endpoint, wait_for  # noqa: E402

RECIPES = {"user-personalization": "arn:aws:personalize:::recipe/aws-user-personalization",
           "sims": "arn:aws:personalize:::recipe/aws-sims",
           "personalized-ranking": "arn:aws:personalize:::recipe/aws-personalized-ranking"}
ROLE = "arn:aws:iam::000000000000:role/PersonalizeRole"
SCHEMA = {"type": "record", "name": "Interactions",
          "namespace": "com.amazonaws.personalize.schema", "version": "1.0",
          "fields": [{"name": "USER_ID", "type": "string"}, {"name": "ITEM_ID", "type": "string"},
                     {"name": "EVENT_TYPE", "type": "string"},
                     {"name": "TIMESTAMP", "type": "long"}]}
REPORTED_METRICS = ("normalized_discounted_cumulative_gain_at_10", "precision_at_5")
POLL_SECONDS = 0.2


class Interval:
    """Wall seconds of a block with the load average and CPU steal beside them."""

    def __enter__(self):
        self._steal = CpuSteal().__enter__()
        self._started = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self._started
        self._steal.__exit__(*exc)
        self.steal = self._steal.percent
        self.load = os.getloadavg()[0]

    def row(self) -> dict:
        return {"seconds": round(self.seconds, 2), "load_1min": round(self.load, 2),
                "steal_percent": None if self.steal is None else round(self.steal, 1)}


def movielens_rows():
    with open(SHARED_DATA / "ml-100k" / "u.data") as source:
        for line in source:
            user, item, _rating, when = line.split("\t")
            yield user, item, "watch", int(when)


def measure_t0() -> dict:
    import numpy as np

    from chalicelib.models.data import TrainingData
    from chalicelib.models import get_recipe
    users, items, kinds, stamps = zip(*movielens_rows())
    data = TrainingData.from_interactions(np.array(users, dtype=object),
                                          np.array(items, dtype=object),
                                          np.array(stamps, dtype=np.float64),
                                          event_type=np.array(kinds, dtype=object))
    with Interval() as interval:
        get_recipe(RECIPES["user-personalization"]).train(data, {}, 0, lambda line: None)
    return {**interval.row(), "same_users": measure_t0_same_users(data)}


def measure_t0_same_users(data) -> dict:
    """T0's training on the data a version's task trains on (AWS's 90/10 user split): the
    recipe's early stopping picks its epochs from that data, so T1 / this is the task's
    own overhead, apart from how many epochs the other users' data takes."""
    from chalicelib.models import get_recipe
    from chalicelib.records.recipe_catalogue import recipe_type
    from chalicelib.training.evaluation import metrics_split
    arn = RECIPES["user-personalization"]
    train = metrics_split(recipe_type(arn), data).train
    epochs = []
    with Interval() as interval:
        get_recipe(arn).train(train, {}, 0, lambda line: epochs.append(line)
                              if line.startswith("trained ") else None)
    return {**interval.row(), "summary": epochs[-1] if epochs else None}




class Lab:
    """The endpoint with ML-100K imported; creates solutions and times their versions."""

    def __init__(self, endpoint):
        self.endpoint = endpoint
        self.personalize = endpoint.client("personalize")
        self.count = 0

    def import_movielens(self) -> None:
        s3, personalize = self.endpoint.client("s3"), self.personalize
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["USER_ID", "ITEM_ID", "EVENT_TYPE", "TIMESTAMP"])
        writer.writerows(movielens_rows())
        s3.create_bucket(Bucket="training-time")
        s3.put_object(Bucket="training-time", Key="ml-100k.csv", Body=out.getvalue().encode())
        schema = personalize.create_schema(name="tt-schema",
                                           schema=json.dumps(SCHEMA))["schemaArn"]
        self.group = personalize.create_dataset_group(name="tt-group")["datasetGroupArn"]
        wait_for(lambda: personalize.describe_dataset_group(datasetGroupArn=self.group),
                 ["datasetGroup", "status"])
        dataset = personalize.create_dataset(name="tt-interactions", schemaArn=schema,
                                             datasetGroupArn=self.group,
                                             datasetType="Interactions")["datasetArn"]
        wait_for(lambda: personalize.describe_dataset(datasetArn=dataset),
                 ["dataset", "status"])
        job = personalize.create_dataset_import_job(
            jobName="tt-import", datasetArn=dataset, roleArn=ROLE,
            dataSource={"dataLocation": "s3://training-time/ml-100k.csv"})["datasetImportJobArn"]
        status = wait_for(lambda: personalize.describe_dataset_import_job(
            datasetImportJobArn=job), ["datasetImportJob", "status"])
        assert status == "ACTIVE", personalize.describe_dataset_import_job(
            datasetImportJobArn=job)

    def solution(self, recipe: str) -> str:
        self.count += 1
        arn = self.personalize.create_solution(
            name=f"tt-{recipe}-{self.count}", datasetGroupArn=self.group,
            recipeArn=RECIPES[recipe])["solutionArn"]
        wait_for(lambda: self.personalize.describe_solution(solutionArn=arn),
                 ["solution", "status"])
        return arn

    def train_at_once(self, recipes: list[str]) -> tuple[Interval, list[dict]]:
        """Create one version per recipe back to back; wait until every one has ended."""
        solutions = [self.solution(recipe) for recipe in recipes]
        watchers = []
        with Interval() as interval:
            for solution in solutions:
                arn = self.personalize.create_solution_version(
                    solutionArn=solution)["solutionVersionArn"]
                watchers.append(LogWatcher(self.endpoint.data_dir, arn).start())
            pending = {w.arn for w in watchers}
            while pending:
                time.sleep(POLL_SECONDS)
                for arn in list(pending):
                    version = self.personalize.describe_solution_version(
                        solutionVersionArn=arn)["solutionVersion"]
                    if version["status"] in ("ACTIVE", "CREATE FAILED"):
                        pending.discard(arn)
                        next(w for w in watchers if w.arn == arn).finish(version)
        return interval, [dict(w.summary(), recipe=r) for w, r in zip(watchers, recipes)]

    def metrics(self, arn: str) -> dict:
        metrics = self.personalize.get_solution_metrics(solutionVersionArn=arn)["metrics"]
        return {name: round(metrics.get(name, float("nan")), 4) for name in REPORTED_METRICS}

    def campaign(self, version_arn: str) -> str:
        arn = self.personalize.create_campaign(name="tt-campaign",
                                               solutionVersionArn=version_arn)["campaignArn"]
        wait_for(lambda: self.personalize.describe_campaign(campaignArn=arn),
                 ["campaign", "status"])
        return arn


class LogWatcher:
    """A version from its creation to its end, and what its task log said meanwhile: how
    long it waited for cores, the task's first line after its launch, the longest silence
    (the issue's "a line within 2 s, then at least every 10 s")."""

    def __init__(self, data_dir: Path, arn: str):
        from chalicelib.storage.artifacts import arn_key
        self.arn = arn
        self.path = data_dir / "artifacts" / "logs" / f"{arn_key(arn)}.log"
        self.created, self.created_wall = time.perf_counter(), time.time()

    def start(self) -> "LogWatcher":
        return self

    def finish(self, version: dict) -> None:
        self.ended, self.ended_wall = time.perf_counter(), time.time()
        self.version = version

    def summary(self) -> dict:
        from chalicelib.task_log import read_log
        try:
            lines = read_log(self.path.read_text())
        except OSError:
            lines = []
        stamps = {}
        for when, fields in lines:
            stamps.setdefault(fields.get("phase"), when)
        times = [self.created_wall] + [when for when, _ in lines]
        launch, first = stamps.get("launching"), stamps.get("starting")
        return {"arn": self.arn, "status": self.version["status"],
                "failure": self.version.get("failureReason"),
                "seconds": round(self.ended - self.created, 2),
                "queued_s": round(launch - self.created_wall, 2) if launch else None,
                "task_first_line_s": round(first - launch, 2) if launch and first else None,
                "longest_log_silence_s": round(max(b - a for a, b in zip(times, times[1:])), 2)
                if len(times) > 1 else None,
                "log_lines": len(lines),
                "phase_seconds": phase_seconds(lines, self.ended_wall),
                "training_summary": self.training_summary()}

    def training_summary(self) -> str | None:
        """The recipe's closing line: steps, epochs run and the epoch early stopping kept."""
        try:
            found = [line.split("INFO ", 1)[-1] for line in self.path.read_text().splitlines()
                     if " INFO trained " in line]
        except OSError:
            return None
        return found[-1] if found else None


def phase_seconds(lines: list[tuple[float, dict]], ended: float) -> dict[str, float]:
    """Seconds from each phase's first line to the next phase's (the last one to the end):
    where a version's time goes beside the training itself."""
    starts: list[tuple[str, float]] = []
    for when, fields in lines:
        name = fields.get("phase")
        if name and (not starts or starts[-1][0] != name):
            starts.append((name, when))
    spent: dict[str, float] = {}
    for (name, when), (_, after) in zip(starts, starts[1:] + [("end", ended)]):
        spent[name] = round(spent.get(name, 0.0) + after - when, 2)
    return spent


class LatencySampler:
    """GetRecommendations at a steady rate from one keep-alive connection."""

    def __init__(self, url: str, campaign: str, per_second: float):
        self.client = SignedClient(url, "personalize")
        self.campaign, self.pause = campaign, 1.0 / per_second
        self.samples: list[float] = []
        self._stop = threading.Event()

    def __enter__(self):
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        user = 0
        while not self._stop.is_set():
            user = user % 943 + 1
            started = time.perf_counter()
            status, body = self.client.post("/recommendations", {
                "campaignArn": self.campaign, "userId": str(user), "numResults": 25})
            assert status == 200, body
            self.samples.append(1000 * (time.perf_counter() - started))
            self._stop.wait(self.pause)


def sample_idle(url: str, campaign: str, per_second: float, seconds: float) -> dict:
    with Interval() as interval, LatencySampler(url, campaign, per_second) as sampler:
        time.sleep(seconds)
    return {**percentiles(sampler.samples), "requests": len(sampler.samples), **interval.row()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phases", nargs="+", default=["t0", "t1", "t2", "poc"],
                        choices=["t0", "t1", "t2", "poc"])
    parser.add_argument("--requests-per-second", type=float, default=20.0)
    parser.add_argument("--idle-seconds", type=float, default=20.0)
    parser.add_argument("--server-env", nargs="*", default=[], metavar="NAME=VALUE",
                        help="environment of the endpoint (e.g. the scheduler's settings)")
    parser.add_argument("--name", default="training_time", help="results file name")
    args = parser.parse_args(argv)
    server_env = dict(item.split("=", 1) for item in args.server_env)
    results: dict = {"phases": args.phases, "cores": os.cpu_count(), "server_env": server_env,
                     "versions": []}

    if "t0" in args.phases:
        results["t0"] = measure_t0()
        print(f"T0 in-process train: {results['t0']}", flush=True)
    endpoint = Endpoint(Path(tempfile.mkdtemp(prefix="training-time-")),
                        env={"PERSONALIZE_SETTLE_SECONDS": "0.01", **server_env}).start()
    try:
        lab = Lab(endpoint)
        lab.import_movielens()
        t1_arn = None
        if {"t1", "t2", "poc"} & set(args.phases):
            interval, (version,) = lab.train_at_once(["user-personalization"])
            version["metrics"] = lab.metrics(version["arn"])
            results["t1"], t1_arn = {**interval.row(), **version}, version["arn"]
            results["versions"].append(version)
            print(f"T1 one version: {results['t1']}", flush=True)
        if "t2" in args.phases:
            campaign = lab.campaign(t1_arn)
            results["idle_latency"] = sample_idle(endpoint.url, campaign,
                                                  args.requests_per_second, args.idle_seconds)
            with LatencySampler(endpoint.url, campaign, args.requests_per_second) as sampler:
                interval, versions = lab.train_at_once(["user-personalization"] * 2)
            results["t2"] = {**interval.row(), "versions": versions}
            results["training_latency"] = {**percentiles(sampler.samples),
                                           "requests": len(sampler.samples)}
            results["versions"] += versions
            print(f"T2 two at once: {results['t2']}", flush=True)
        if "poc" in args.phases:
            alone = {"user-personalization": results["t1"]["seconds"]}
            for recipe in ("sims", "personalized-ranking"):
                interval, (version,) = lab.train_at_once([recipe])
                alone[recipe] = interval.seconds
                results["versions"].append(version)
            interval, versions = lab.train_at_once(list(RECIPES))
            results["poc"] = {**interval.row(), "alone_seconds": alone,
                              "sum_alone_seconds": round(sum(alone.values()), 2),
                              "versions": versions}
            results["versions"] += versions
            print(f"POC three at once: {results['poc']}", flush=True)
        for version in results["versions"]:
            if version["status"] == "ACTIVE" and "metrics" not in version:
                version["metrics"] = lab.metrics(version["arn"])
    finally:
        endpoint.stop()
    report(results)
    print(f"saved {save(args.name, results)}")
    return 0


def report(results: dict) -> None:
    rows = []
    t0, t1 = results.get("t0"), results.get("t1")
    if t0:
        rows.append(["T0 in-process train", t0["seconds"], "", "", t0["load_1min"],
                     t0["steal_percent"]])
        same = t0["same_users"]
        rows.append(["T0 on the task's training users", same["seconds"], "",
                     same["summary"] or "", same["load_1min"], same["steal_percent"]])
    if t1:
        ratio = f"{t1['seconds'] / t0['seconds']:.2f} x T0 (<= 1.3)" if t0 else ""
        rows.append(["T1 one version", t1["seconds"], ratio,
                     f"{t1['seconds'] / t0['same_users']['seconds']:.2f} x T0 on the same "
                     "users" if t0 else "", t1["load_1min"], t1["steal_percent"]])
    if "t2" in results:
        t2 = results["t2"]
        rows.append(["T2 two at once", t2["seconds"],
                     f"{t2['seconds'] / t1['seconds']:.2f} x T1 (<= 2.2)", "",
                     t2["load_1min"], t2["steal_percent"]])
        idle, busy = results["idle_latency"], results["training_latency"]
        rows.append(["GetRecommendations p99 idle / training", f"{idle['p99_ms']:.1f} / "
                     f"{busy['p99_ms']:.1f} ms",
                     f"{busy['p99_ms'] / idle['p99_ms']:.2f} x idle (<= 2)",
                     f"{idle['requests']} / {busy['requests']} requests", idle["load_1min"],
                     idle["steal_percent"]])
    if "poc" in results:
        poc = results["poc"]
        rows.append(["POC three at once", poc["seconds"],
                     f"{poc['seconds'] / poc['sum_alone_seconds']:.2f} x sum (<= 1.1)",
                     f"sum alone {poc['sum_alone_seconds']:.1f} s", poc["load_1min"],
                     poc["steal_percent"]])
    print_table(["measurement", "seconds", "ratio (target)", "note", "load", "steal %"], rows)
    print()
    print_table(["version", "status", "seconds", "queued s", "task's first line s",
                 "longest log silence s"] + list(REPORTED_METRICS),
                [[v["recipe"], v["status"], v["seconds"], v["queued_s"], v["task_first_line_s"],
                  v["longest_log_silence_s"]]
                 + [v.get("metrics", {}).get(m, "") for m in REPORTED_METRICS]
                 for v in results["versions"]])


if __name__ == "__main__":
    sys.exit(main())
