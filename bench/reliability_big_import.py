"""A 1 GB CSV imported through the real server: memory stays bounded.

    .venv/bin/python bench/reliability_big_import.py [--size-mb 1024]

Writes an Interactions CSV of the given size (in a temporary folder), uploads it to an S3
of its own (moto's server, a separate process, as LocalStack or AWS would be: the embedded
S3 keeps objects in the endpoint's own memory and would hide the importer's figure), runs a
dataset import job on a fresh `python -m chalicelib.server` and samples the RSS of the
endpoint (with its children) and of the S3 process every 0.2 s. The importer holds one line
at a time, so the endpoint's peak RSS during the import should not grow with the file size.
Prints a table; results: bench/results/reliability_big_import.json
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import boto3
import psutil
from boto3.s3.transfer import TransferConfig

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.api.builders import INTERACTIONS_SCHEMA, ROLE, ready  # noqa: E402
from tests.conftest import Endpoint, _free_port, wait_for  # noqa: E402

MB = 1 << 20


def write_csv(path: Path, size_mb: int) -> int:
    rows, target = 0, size_mb * MB
    with open(path, "w") as out:
        out.write("USER_ID,ITEM_ID,EVENT_TYPE,TIMESTAMP,EVENT_VALUE\n")
        while out.tell() < target:
            out.write("".join(f"user-{(rows + k) % 100_003},item-{(rows + k) * 7 % 50_021},"
                              f"click,{1_600_000_000 + rows + k},1.0\n" for k in range(10_000)))
            rows += 10_000
    return rows


def tree_rss(pid: int) -> int:
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.Error:
            pass
    return total


class RssSampler:
    """Peak RSS of named process trees, sampled in a thread, per named phase."""

    def __init__(self, pids: dict[str, int], every: float = 0.2):
        self.pids, self.every = pids, every
        self.phase, self.peaks, self._stop = "idle", {}, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def sample(self):
        for name, pid in self.pids.items():
            key = f"{name}_{self.phase}"
            self.peaks[key] = max(self.peaks.get(key, 0), tree_rss(pid))

    def _run(self):
        while not self._stop.wait(self.every):
            self.sample()

    def __enter__(self):
        self.sample()
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self.thread.join()


def _answers(s3) -> bool:
    try:
        s3.list_buckets()
        return True
    except Exception:  # not up yet
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=int, default=1024)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        csv_path = folder / "interactions.csv"
        rows = write_csv(csv_path, args.size_mb)
        (folder / "data").mkdir()
        s3_url = f"http://127.0.0.1:{_free_port()}"
        s3_server = subprocess.Popen([sys.executable, "-m", "moto.server", "-p",
                                      s3_url.rsplit(":", 1)[1]], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        endpoint = Endpoint(folder / "data", {"PERSONALIZE_S3_ENDPOINT_URL": s3_url}).start()
        try:
            personalize = endpoint.client("personalize")
            s3 = boto3.client(
                "s3", endpoint_url=s3_url, region_name="us-east-1",
                aws_access_key_id="testing", aws_secret_access_key="testing")
            wait_for(lambda: _answers(s3), [], done=(True,), timeout=60)
            with RssSampler({"endpoint": endpoint.process.pid,
                             "s3": s3_server.pid}) as sampler:
                sampler.phase = "upload"
                s3.create_bucket(Bucket="big")
                started = time.perf_counter()
                s3.upload_file(str(csv_path), "big", "interactions.csv",
                               Config=TransferConfig(multipart_chunksize=64 * MB,
                                                     max_concurrency=2))
                upload_s = time.perf_counter() - started
                sampler.phase = "setup"
                schema = personalize.create_schema(
                    name="big", schema=json.dumps(INTERACTIONS_SCHEMA))["schemaArn"]
                group = personalize.create_dataset_group(name="big")["datasetGroupArn"]
                ready(lambda: personalize.describe_dataset_group(datasetGroupArn=group),
                      ["datasetGroup", "status"])
                dataset = personalize.create_dataset(
                    name="big", schemaArn=schema, datasetGroupArn=group,
                    datasetType="Interactions")["datasetArn"]
                ready(lambda: personalize.describe_dataset(datasetArn=dataset),
                      ["dataset", "status"])
                sampler.phase = "import"
                started = time.perf_counter()
                job = personalize.create_dataset_import_job(
                    jobName="big", datasetArn=dataset, roleArn=ROLE,
                    dataSource={"dataLocation": "s3://big/interactions.csv"}
                )["datasetImportJobArn"]
                describe = lambda: personalize.describe_dataset_import_job(  # noqa: E731
                    datasetImportJobArn=job)
                status = wait_for(describe, ["datasetImportJob", "status"], timeout=7200)
                import_s = time.perf_counter() - started
                reason = describe()["datasetImportJob"].get("failureReason")
        finally:
            endpoint.stop()
            s3_server.terminate()
    result = {"size_mb": args.size_mb, "rows": rows, "status": status, "failureReason": reason,
              "upload_s": round(upload_s, 1), "import_s": round(import_s, 1),
              "rows_per_s": round(rows / import_s),
              **{f"peak_rss_{key}_mb": round(v / MB) for key, v in sampler.peaks.items()}}
    for key, value in result.items():
        print(f"{key:>30} | {value}")
    out = ROOT / "bench" / "results" / "reliability_big_import.json"
    out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
