"""CSV import: header matching, per-row type checks, normalised output, bounded memory;
typed tables from normalised files; S3 line reading; the training minimums."""
import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from botocore.exceptions import ClientError

from chalicelib.datasets.csv_import import (DataImportError, InsufficientTrainingDataError,
                                            check_training_minimums, import_csv)
from chalicelib.datasets.s3_source import iter_s3_lines, parse_s3_url
from chalicelib.datasets.schema import parse_schema
from chalicelib.datasets.tables import load_table
from chalicelib.models.data import Table

INTERACTIONS = parse_schema(json.dumps({"type": "record", "name": "Interactions", "fields": [
    {"name": "USER_ID", "type": "string"}, {"name": "ITEM_ID", "type": "string"},
    {"name": "TIMESTAMP", "type": "long"}, {"name": "EVENT_TYPE", "type": "string"},
    {"name": "EVENT_VALUE", "type": ["null", "float"]},
    {"name": "IMPRESSION", "type": ["null", "string"]}]}))
ITEMS = parse_schema(json.dumps({"type": "record", "name": "Items", "fields": [
    {"name": "ITEM_ID", "type": "string"},
    {"name": "GENRES", "type": ["null", "string"], "categorical": True},
    {"name": "PRICE", "type": ["null", "double"]}, {"name": "STOCK", "type": "int"},
    {"name": "ON_SALE", "type": ["null", "boolean"]},
    {"name": "DESCRIPTION", "type": ["null", "string"], "textual": True},
    {"name": "CREATION_TIMESTAMP", "type": ["null", "long"]}]}))
ITEMS_HEADER = "ITEM_ID,GENRES,PRICE,STOCK,ON_SALE,DESCRIPTION,CREATION_TIMESTAMP\n"


def run(text: str | bytes, schema=INTERACTIONS, dataset_type="Interactions"):
    data = text.encode() if isinstance(text, str) else text
    sink = io.StringIO()
    summary = import_csv(io.BytesIO(data), schema, dataset_type, sink)
    return summary, list(csv.reader(io.StringIO(sink.getvalue())))


def failure(text, schema=INTERACTIONS) -> str:
    with pytest.raises(DataImportError) as caught:
        run(text, schema)
    return str(caught.value)


def test_good_file_is_normalised_in_schema_order():
    summary, rows = run("EVENT_TYPE,USER_ID,ITEM_ID,TIMESTAMP,EVENT_VALUE,IMPRESSION\r\n"
                        "click,u1,i1,1700000000,1.5,i1|i2|i3\r\n"
                        "buy,u2,i2,1700000001,,\r\n")
    assert summary.rows == 2 and summary.ignored_columns == []
    assert rows == [["USER_ID", "ITEM_ID", "TIMESTAMP", "EVENT_TYPE", "EVENT_VALUE", "IMPRESSION"],
                    ["u1", "i1", "1700000000", "click", "1.5", "i1|i2|i3"],
                    ["u2", "i2", "1700000001", "buy", "", ""]]


def test_lowercase_header_bom_and_missing_nullable_columns():
    summary, rows = run("\ufeffuser_id, Item_Id ,timestamp,event_type\nu1,i1,1,view\n")
    assert rows[0] == INTERACTIONS.names
    assert rows[1] == ["u1", "i1", "1", "view", "", ""]


def test_extra_columns_are_ignored():
    summary, rows = run("USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,DEVICE\nu1,i1,5,click,phone\n")
    assert summary.ignored_columns == ["DEVICE"]
    assert rows[1] == ["u1", "i1", "5", "click", "", ""]


def test_unnamed_columns_are_ignored_like_pandas_index():
    # DataFrame.to_csv() without index=False: an unnamed first column of row numbers, as
    # in AWS's Promotions and Trending-Now samples.
    summary, rows = run(",USER_ID,ITEM_ID,TIMESTAMP,,EVENT_TYPE\n"
                        "0,u1,i1,5,x,click\n1,u2,i2,6,y,view\n")
    assert summary.ignored_columns == ["(column 1, unnamed)", "(column 5, unnamed)"]
    assert rows[1:] == [["u1", "i1", "5", "click", "", ""], ["u2", "i2", "6", "view", "", ""]]


def test_quoted_fields_with_commas_quotes_and_newlines():
    _, rows = run(ITEMS_HEADER + '"i,1",a|b,9.5,3,TRUE,"says ""hi"",\nthen more",1700000000\n',
                  ITEMS)
    assert rows[1] == ["i,1", "a|b", "9.5", "3", "true", 'says "hi",\nthen more', "1700000000"]


def test_multi_value_categorical_and_nullable_empties():
    _, rows = run(ITEMS_HEADER + "i1,Comedy|Drama,,0,,,\n", ITEMS)
    assert rows[1] == ["i1", "Comedy|Drama", "", "0", "", "", ""]


@pytest.mark.parametrize("body, words", [
    ("u1,i1,12x,click\n", "Line 2, column TIMESTAMP: '12x' is not a Unix epoch time"),
    ("u1,i1,1.5,click\n", "column TIMESTAMP"),
    ("u1,i1,1700000000000,click\n", "looks like milliseconds"),
    ("u1,i1,,click\n", "column TIMESTAMP: a value is required"),
    (",i1,1,click\n", "column USER_ID: a value is required"),
    ("u1,i1,1,click\nu2,i2,2\n", "Line 3: expected 4 values"),
    ("u1,i1,1,click,extra\n", "Line 2: expected 4 values"),
    (f"{'u' * 257},i1,1,click\n", "at most 256 characters"),
])
def test_bad_rows_name_line_and_column(body, words):
    assert words in failure("USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\n" + body)


@pytest.mark.parametrize("row, words", [
    ("i1,,,abc,,,\n", "column STOCK: 'abc' is not a valid int"),
    ("i1,,,99999999999,,,\n", "out of range for int"),
    ("i1,,nan,1,,,\n", "column PRICE: 'nan' is not a valid double"),
    ("i1,,1_0,1,,,\n", "not a valid double"),
    ("i1,,,1,yes,,\n", "column ON_SALE: 'yes' is not a boolean"),
    (f"i1,{'c' * 1001},,1,,,\n", "at most 1000 characters"),
])
def test_bad_values_per_type(row, words):
    assert words in failure(ITEMS_HEADER + row, ITEMS)


def test_long_textual_values_are_truncated_to_20000_characters():
    summary, rows = run(ITEMS_HEADER + f"i1,,,1,,{'t' * 25000},\n", ITEMS)
    assert summary.truncated_values == 1 and len(rows[1][5]) == 20000


def test_missing_required_column():
    assert "no TIMESTAMP column" in failure("USER_ID,ITEM_ID,EVENT_TYPE\nu1,i1,click\n")


def test_empty_file_and_header_only():
    assert "empty" in failure(b"")
    assert "empty" in failure(b"\n\n")
    assert "no data rows" in failure("USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\n")


def test_duplicate_header_ignoring_case():
    assert "USER_ID more than once" in failure("USER_ID,ITEM_ID,user_id,TIMESTAMP\n")


def test_non_utf8_bytes_name_the_line():
    text = b"USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\nu1,i1,1,click\nu\xe9,i1,2,click\n"
    assert "Line 3 is not valid UTF-8 (byte 0xe9" in failure(text)


def test_utf8_text_is_kept():
    _, rows = run("USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\nJosé,項目,1,click\n")
    assert rows[1][:2] == ["José", "項目"]


def test_malformed_quoting_is_reported():
    assert "malformed CSV" in failure('USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\n"u1"x,i1,1,a\n')


def generated_lines(target_bytes: int):
    yield b"USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE,DEVICE\n"
    size, n = 0, 0
    while size < target_bytes:
        line = f"user{n % 50000},item{n % 7919},{1600000000 + n},click,{n % 5}.5,phone\n".encode()
        size += len(line)
        n += 1
        yield line


class CountingSink:
    """Discards what it is given; the point is what import_csv itself holds."""

    def __init__(self):
        self.chars = 0

    def write(self, text):
        self.chars += len(text)


_MEMORY_PROBE = """
import resource, sys
from tests.datasets.test_csv_import import CountingSink, INTERACTIONS, generated_lines
from chalicelib.datasets.csv_import import import_csv
import_csv(generated_lines(2**20), INTERACTIONS, "Interactions", CountingSink())   # warm up
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
sink = CountingSink()
summary = import_csv(generated_lines(50 * 2**20), INTERACTIONS, "Interactions", sink)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(summary.rows, sink.chars, after - before)
"""


def test_memory_stays_bounded_on_a_50mb_file():
    """Peak RSS (a fresh process, so the peak is this import's) grows by under 8 MB while
    streaming 50 MB: memory does not scale with the file."""
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", _MEMORY_PROBE], cwd=root, check=True,
                            capture_output=True, text=True, timeout=600,
                            env={**os.environ, "PYTHONPATH": str(root)})
    rows, chars, growth_kib = map(int, result.stdout.split())
    assert rows > 900_000 and chars > 40 * 2**20
    assert growth_kib < 8 * 1024, f"peak RSS grew by {growth_kib} KiB"


# --- load_table ------------------------------------------------------------------------

def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_load_table_types_and_concatenation(tmp_path):
    first = write(tmp_path, "1.csv", "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE,IMPRESSION\n"
                                     "u1,i1,1700000000,click,2.5,i1|i2\nu1,i2,1700000001,buy,,\n")
    older = write(tmp_path, "0.csv", "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\nu2,i1,5,click\n")
    table = load_table([older, first], INTERACTIONS)
    assert isinstance(table, Table) and len(table) == 3
    assert table.columns["USER_ID"].dtype == object
    assert table.columns["USER_ID"].tolist() == ["u2", "u1", "u1"]
    assert table.columns["TIMESTAMP"].dtype == np.float64
    assert table.columns["TIMESTAMP"].tolist() == [5.0, 1700000000.0, 1700000001.0]
    value = table.columns["EVENT_VALUE"]
    assert value.dtype == np.float32 and np.isnan(value[0]) and value[1] == 2.5
    assert table.columns["IMPRESSION"].tolist() == ["", "i1|i2", ""]
    assert table.kinds["TIMESTAMP"] == "timestamp" and table.kinds["EVENT_VALUE"] == "numerical"


def test_load_table_later_rows_win_for_items(tmp_path):
    a = write(tmp_path, "a.csv", ITEMS_HEADER + "i1,a,1.0,1,true,,\ni2,b,2.0,2,,,\n")
    b = write(tmp_path, "b.csv", ITEMS_HEADER + "i1,c|d,,3,false,text,1700000000\n")
    table = load_table([a, b], ITEMS)
    assert table.columns["ITEM_ID"].tolist() == ["i2", "i1"]
    assert table.columns["GENRES"].tolist() == ["b", "c|d"]
    assert np.isnan(table.columns["PRICE"][1]) and table.columns["STOCK"].tolist() == [2.0, 3.0]
    assert table.kinds["GENRES"] == "categorical" and table.kinds["DESCRIPTION"] == "textual"
    assert table.columns["CREATION_TIMESTAMP"].dtype == np.float64


def test_load_table_fills_columns_an_older_file_lacks(tmp_path):
    old = write(tmp_path, "old.csv", "ITEM_ID,STOCK\ni1,4\n")   # before UpdateDataset
    table = load_table([old], ITEMS)
    assert list(table.columns) == ITEMS.names and len(table) == 1
    assert table.columns["GENRES"].tolist() == [""] and np.isnan(table.columns["PRICE"][0])


def test_load_table_round_trips_an_import(tmp_path):
    path = tmp_path / "in.csv"
    with open(path, "w", encoding="utf-8", newline="") as sink:
        import_csv(generated_lines(200_000), INTERACTIONS, "Interactions", sink)
    table = load_table([path], INTERACTIONS)
    assert len(table) > 3000 and table.columns["ITEM_ID"][0] == "item0"
    assert table.columns["EVENT_VALUE"][:2].tolist() == [0.5, 1.5]


# --- S3 --------------------------------------------------------------------------------

class FakeBody:
    def __init__(self, data: bytes):
        self.stream = io.BytesIO(data)

    def read(self, size=-1):
        return self.stream.read(size)

    def close(self):
        pass


class FakeS3:
    def __init__(self, objects: dict[str, bytes]):
        self.objects = objects   # "bucket/key" -> bytes

    def get_object(self, Bucket, Key):
        if not any(k.startswith(Bucket + "/") for k in self.objects):
            raise ClientError({"Error": {"Code": "NoSuchBucket", "Message": "x"}}, "GetObject")
        if f"{Bucket}/{Key}" not in self.objects:
            raise ClientError({"Error": {"Code": "NoSuchKey", "Message": "x"}}, "GetObject")
        return {"Body": FakeBody(self.objects[f"{Bucket}/{Key}"])}

    def get_paginator(self, _name):
        objects = self.objects

        class Paginator:
            def paginate(self, Bucket, Prefix):
                keys = sorted(k.split("/", 1)[1] for k in objects if k.startswith(Bucket + "/"))
                yield {"Contents": [{"Key": k} for k in keys if k.startswith(Prefix)]}
        return Paginator()


def test_parse_s3_url():
    assert parse_s3_url("s3://bucket/a/b.csv") == ("bucket", "a/b.csv")
    assert parse_s3_url("s3://bucket/dir/") == ("bucket", "dir/")
    with pytest.raises(DataImportError):
        parse_s3_url("https://bucket/a.csv")


def test_iter_s3_lines_one_object_and_prefix():
    s3 = FakeS3({"b/one.csv": b"H1,H2\r\n1,2\r\n3,4",
                 "b/dir/2.csv": b"h1,h2\n5,6\n", "b/dir/1.csv": b"H1,H2\n1,2\n",
                 "b/dir/readme.txt": b"nope", "b/dir/empty.csv": b""})
    assert list(iter_s3_lines(s3, "s3://b/one.csv")) == [b"H1,H2\r\n", b"1,2\r\n", b"3,4"]
    assert list(iter_s3_lines(s3, "s3://b/dir/")) == [b"H1,H2\n", b"1,2\n", b"5,6\n"]


def test_iter_s3_lines_errors():
    s3 = FakeS3({"b/dir/1.csv": b"A,B\n1,2\n", "b/dir/2.csv": b"A,C\n1,2\n"})
    with pytest.raises(DataImportError, match="does not exist"):
        list(iter_s3_lines(s3, "s3://b/missing.csv"))
    with pytest.raises(DataImportError, match="bucket .* does not exist"):
        list(iter_s3_lines(s3, "s3://nobucket/x.csv"))
    with pytest.raises(DataImportError, match="no .csv files"):
        list(iter_s3_lines(s3, "s3://b/other/"))
    with pytest.raises(DataImportError, match="different header"):
        list(iter_s3_lines(s3, "s3://b/dir/"))


def test_s3_lines_feed_import_csv():
    s3 = FakeS3({"b/i.csv": b"USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\nu1,i1,1,click\n"})
    sink = io.StringIO()
    assert import_csv(iter_s3_lines(s3, "s3://b/i.csv"), INTERACTIONS, "Interactions",
                      sink).rows == 1


# --- training minimums -----------------------------------------------------------------

def interactions(users):
    return Table({"USER_ID": np.array(users, dtype=object)})


def test_training_minimums():
    check_training_minimums(interactions([f"u{i % 25}" for i in range(1000)]))
    with pytest.raises(InsufficientTrainingDataError, match="999 interactions"):
        check_training_minimums(interactions(["u"] * 999))
    with pytest.raises(InsufficientTrainingDataError, match="24 users"):
        check_training_minimums(interactions([f"u{i % 24}" for i in range(1000)]
                                             + [f"once{i}" for i in range(10)]))
