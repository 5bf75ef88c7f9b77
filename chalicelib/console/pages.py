"""The console's pages, server-rendered: each takes a ConsoleReader and the query, and
returns (title, body HTML, refresh seconds or None)."""
from __future__ import annotations

import json
import time

from chalicelib.console.html import esc, link, pretty_json, status, table, when
from chalicelib.console.plot import Series, line_chart
from chalicelib.errors import InvalidInputException, ServiceError

RUNNING = ("CREATE PENDING", "CREATE IN_PROGRESS", "ACTIVE IN_PROGRESS", "CREATE STOPPING")
LAST_EVENTS_PER_USER = 5
USERS_SHOWN = 20


def _section(title: str, body: str, css: str = "") -> str:
    return f'<section class="{css}"><h2>{esc(title)}</h2>{body}</section>'


def _name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def overview(reader, query) -> tuple[str, str, None]:
    groups = reader.all("ListDatasetGroups", "datasetGroups")
    rows = [[link("/console/dataset-group", g["name"], arn=g["datasetGroupArn"]),
             status(g["status"]), esc(g.get("domain") or ""), when(g["creationDateTime"])]
            for g in groups]
    body = _section("Dataset groups", table(["name", "status", "domain", "created"], rows))
    campaigns = reader.all("ListCampaigns", "campaigns")
    body += _section("Campaigns", table(["name", "status", "created"], [
        [link("/console/campaign", c["name"], arn=c["campaignArn"]), status(c["status"]),
         when(c["creationDateTime"])] for c in campaigns]))
    trackers = reader.all("ListEventTrackers", "eventTrackers")
    body += _section("Event trackers", table(["name", "status", "created"], [
        [link("/console/event-tracker", t["name"], arn=t["eventTrackerArn"]),
         status(t["status"]), when(t["creationDateTime"])] for t in trackers]))
    return "Overview", body, None


def dataset_group(reader, query) -> tuple[str, str, float | None]:
    arn = _required(query, "arn")
    group = reader.call("DescribeDatasetGroup", datasetGroupArn=arn)["datasetGroup"]
    body = table(["ARN", "status", "created"], [[f"<code>{esc(arn)}</code>",
                                                 status(group["status"]),
                                                 when(group["creationDateTime"])]])
    busy = group["status"] in RUNNING
    for summary in reader.all("ListDatasets", "datasets", datasetGroupArn=arn):
        dataset = reader.call("DescribeDataset", datasetArn=summary["datasetArn"])["dataset"]
        schema = reader.call("DescribeSchema", schemaArn=dataset["schemaArn"])["schema"]
        jobs = reader.all("ListDatasetImportJobs", "datasetImportJobs",
                          datasetArn=dataset["datasetArn"])
        job_rows = []
        for job in jobs:
            full = reader.call("DescribeDatasetImportJob",
                               datasetImportJobArn=job["datasetImportJobArn"])[
                "datasetImportJob"]
            running = full["status"] in RUNNING
            busy |= running
            progress = f" for {time.time() - full['creationDateTime']:.0f} s" \
                if running and isinstance(full.get("creationDateTime"), (int, float)) else ""
            job_rows.append([esc(full["jobName"]), status(full["status"]) + esc(progress),
                             esc((full.get("dataSource") or {}).get("dataLocation")),
                             esc(full.get("importMode") or "FULL"),
                             when(full["creationDateTime"]),
                             f'<span class="error">{esc(full.get("failureReason") or "")}'
                             "</span>"])
        inner = (f"<p>{status(dataset['status'])} · <b>{reader.dataset_rows(dataset)}</b> rows"
                 f" · schema <code>{esc(_name(dataset['schemaArn']))}</code></p>"
                 + _schema_table(schema["schema"])
                 + "<h3>Import jobs</h3>"
                 + table(["job", "status", "data location", "mode", "created",
                          "failure reason"], job_rows))
        body += _section(f"{dataset['datasetType']} dataset: {dataset['name']}", inner,
                         "dataset")
    solution_rows = []
    for solution in reader.all("ListSolutions", "solutions", datasetGroupArn=arn):
        for version in reader.all("ListSolutionVersions", "solutionVersions",
                                  solutionArn=solution["solutionArn"]):
            busy |= version["status"] in RUNNING
            solution_rows.append([
                esc(solution["name"]),
                link("/console/solution-version", _name(version["solutionVersionArn"]),
                     arn=version["solutionVersionArn"]),
                status(version["status"]), esc(version.get("trainingMode") or ""),
                when(version["creationDateTime"])])
    body += _section("Solutions and versions", table(
        ["solution", "version", "status", "training mode", "created"], solution_rows))
    campaigns = [c for c in reader.all("ListCampaigns", "campaigns")
                 if _campaign_group(reader, c) == arn]
    body += _section("Campaigns", table(["name", "status"], [
        [link("/console/campaign", c["name"], arn=c["campaignArn"]), status(c["status"])]
        for c in campaigns]))
    trackers = reader.all("ListEventTrackers", "eventTrackers", datasetGroupArn=arn)
    body += _section("Event trackers", table(["name", "status"], [
        [link("/console/event-tracker", t["name"], arn=t["eventTrackerArn"]),
         status(t["status"])] for t in trackers]))
    filters = reader.all("ListFilters", "Filters", datasetGroupArn=arn)
    expressions = {f["filterArn"]: reader.call("DescribeFilter", filterArn=f["filterArn"])[
        "filter"].get("filterExpression") for f in filters}
    body += _section("Filters", table(["name", "status", "expression"], [
        [esc(f["name"]), status(f["status"]), f"<code>{esc(expressions[f['filterArn']])}</code>"]
        for f in filters]))
    return f"Dataset group {group['name']}", body, 3 if busy else None


def _campaign_group(reader, campaign: dict) -> str | None:
    described = reader.describe("DescribeCampaign", "campaign",
                                campaignArn=campaign["campaignArn"])
    version = described and reader.describe("DescribeSolutionVersion", "solutionVersion",
                                            solutionVersionArn=described["solutionVersionArn"])
    return version.get("datasetGroupArn") if version else None


def _schema_table(schema_text: str) -> str:
    try:
        fields = json.loads(schema_text).get("fields", [])
    except (ValueError, AttributeError):
        return pretty_json(schema_text)
    rows = []
    for field in fields:
        kind = field.get("type")
        flags = [f for f in ("categorical", "textual") if field.get(f)]
        rows.append([f"<code>{esc(field.get('name'))}</code>", esc(json.dumps(kind)),
                     esc(", ".join(flags))])
    return table(["field", "type", "flags"], rows, "schema")


def solution_version(reader, query) -> tuple[str, str, float | None]:
    arn = _required(query, "arn")
    version = reader.call("DescribeSolutionVersion",
                          solutionVersionArn=arn)["solutionVersion"]
    running = version["status"] in RUNNING
    history = reader.training_history(arn) or {}
    epochs = history.get("epochs", [])
    body = table(["status", "recipe", "training mode", "created", "training hours"], [[
        status(version["status"]), esc(_name(version.get("recipeArn") or "")),
        esc(version.get("trainingMode")), when(version["creationDateTime"]),
        esc(f"{version['trainingHours']:.4f}" if version.get("trainingHours") else "")]])
    if version.get("failureReason"):
        body += f'<p class="error">{esc(version["failureReason"])}</p>'
    body += _section("Training", _training_plot(epochs, running, history), "training")
    if running:
        lines = reader.task_log_tail(arn)
        body += _section("Task log (last lines)",
                         f"<pre class='log'>{esc(chr(10).join(lines)) or 'no output yet'}</pre>")
    if version["status"] == "ACTIVE":
        metrics = reader.call("GetSolutionMetrics", solutionVersionArn=arn)["metrics"]
        body += _section("GetSolutionMetrics", table(["metric", "value"], [
            [esc(name), esc(f"{value:.4f}" if isinstance(value, float) else value)]
            for name, value in sorted(metrics.items())], "metrics"))
    tuned = (version.get("tunedHPOParams") or {}).get("algorithmHyperParameters")
    configured = (version.get("solutionConfig") or {}).get("algorithmHyperParameters") or {}
    used = tuned or history.get("hyperparameters") or configured
    body += _section("Hyperparameters", table(["name", "value", "set by"], [
        [esc(k), esc(v), "solutionConfig" if k in configured else "default"]
        for k, v in sorted(used.items())], "hyperparameters"))
    return f"Solution version {_name(arn)}", body, 2 if running else None


def _training_plot(epochs: list[dict], running: bool, history: dict) -> str:
    if not epochs:
        text = "Training has not finished an epoch yet." if running else \
            "This recipe trains without epochs (no per-epoch history)."
        return f'<p class="muted">{text}</p>'
    series = [Series("loss", [(e["epoch"], e["loss"]) for e in epochs]),
              Series("events/s", [(e["epoch"], e["events_per_second"]) for e in epochs])]
    names = sorted({name for e in epochs for name in (e.get("validation") or {})})
    for name in names:
        series.append(Series(f"validation {name}", [
            (e["epoch"], e["validation"][name]) for e in epochs
            if name in (e.get("validation") or {})]))
    last = epochs[-1]
    progress = f"epoch {last['epoch']}/{last['epochs']}"
    if running and last["epoch"] < last["epochs"]:
        progress += f", about {last['eta_seconds']:.0f} s left"
    rows = [[esc(e["epoch"]), esc(f"{e['loss']:.4f}"), esc(f"{e['events_per_second']:.0f}"),
             esc(f"{e['seconds']:.1f}"),
             esc(", ".join(f"{k} {v:.4f}" for k, v in (e.get("validation") or {}).items()))]
            for e in epochs]
    return (f"<p>{esc(progress)}</p>" + line_chart(series)
            + table(["epoch", "loss", "events/s", "seconds", "validation"], rows, "epochs"))


def campaign(reader, query) -> tuple[str, str, float | None]:
    arn = _required(query, "arn")
    found = reader.call("DescribeCampaign", campaignArn=arn)["campaign"]
    config = found.get("campaignConfig") or {}
    body = table(["status", "solution version", "min TPS", "config"], [[
        status(found["status"]),
        link("/console/solution-version", _name(found["solutionVersionArn"]),
             arn=found["solutionVersionArn"]),
        esc(found.get("minProvisionedTPS")), pretty_json(config)]])
    version = reader.describe("DescribeSolutionVersion", "solutionVersion",
                              solutionVersionArn=found["solutionVersionArn"]) or {}
    filters = reader.all("ListFilters", "Filters",
                         datasetGroupArn=version["datasetGroupArn"]) if version else []
    body += _section("Try it", _try_form(arn, query, filters)
                     + _try_result(reader, arn, query), "try-it")
    return f"Campaign {found['name']}", body, None


def _filter_select(filters: list[dict], chosen: str) -> str:
    options = ['<option value="">no filter</option>'] + [
        f'<option value="{esc(f["filterArn"])}"'
        f'{" selected" if f["filterArn"] == chosen else ""}>{esc(f["name"])}</option>'
        for f in filters]
    return f'<label>filter <select name="filterArn">{"".join(options)}</select></label>'


def _try_form(arn: str, query, filters: list[dict]) -> str:
    def field(name: str, label: str, width: int = 18) -> str:
        return (f'<label>{esc(label)} <input name="{name}" size="{width}" '
                f'value="{esc(query.get(name, ""))}"></label>')
    return ('<form class="inline try" method="get" action="/console/campaign">'
            f'<input type="hidden" name="arn" value="{esc(arn)}">'
            + field("userId", "user id", 10) + field("itemId", "item id (related items)", 8)
            + field("numResults", "results", 3)
            + _filter_select(filters, query.get("filterArn", ""))
            + field("filterValues", "filter values (JSON)", 20)
            + field("context", "context (JSON)", 20)
            + '<button type="submit">Get recommendations</button></form>')


def _json_field(query, name: str) -> dict | None:
    text = query.get(name, "").strip()
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        raise InvalidInputException(f"{name} must be a JSON object, e.g. "
                                    '{"GENRE": "\\"Comedy\\""}.') from None
    if not isinstance(value, dict):
        raise InvalidInputException(f"{name} must be a JSON object.")
    return value


def _try_result(reader, arn: str, query) -> str:
    user_id, item_id = query.get("userId", "").strip(), query.get("itemId", "").strip()
    if not user_id and not item_id:
        return '<p class="muted">Give a user id (or an item id for a related-items ' \
               "campaign) and ask.</p>"
    params = {"campaignArn": arn}
    if user_id:
        params["userId"] = user_id
    if item_id:
        params["itemId"] = item_id
    if query.get("numResults", "").strip():
        try:
            params["numResults"] = int(query["numResults"])
        except ValueError:
            return '<p class="error">results must be a whole number.</p>'
    if query.get("filterArn", "").strip():
        params["filterArn"] = query["filterArn"].strip()
    try:
        for name in ("filterValues", "context"):
            value = _json_field(query, name)
            if value is not None:
                params[name] = value
        answer = reader.recommend(**params)
    except ServiceError as error:
        return f'<p class="error">{esc(error.code)}: {esc(error.message)}</p>'
    items = [entry["itemId"] for entry in answer["itemList"]]
    exploiting = set(reader.inspector.exploitation_items(
        arn, user_id, len(items), params.get("filterArn"), params.get("filterValues"))) \
        if user_id else set(items)
    metadata = reader.inspector.item_metadata(arn, items)
    rows, classes = [], []
    for rank, entry in enumerate(answer["itemList"], 1):
        item = entry["itemId"]
        explored = item not in exploiting
        why = link("/console/why", "why", campaignArn=arn, userId=user_id or None,
                   itemId=item)
        rows.append([esc(rank), f'<span class="item-id">{esc(item)}</span>',
                     esc(f"{entry['score']:.6f}" if entry.get("score") is not None else ""),
                     "exploration" if explored else "",
                     esc(", ".join(f"{k}={v}" for k, v in metadata.get(item, {}).items())),
                     why])
        classes.append("explore recommendation" if explored else "recommendation")
    marked = sum(1 for c in classes if c.startswith("explore"))
    return (f"<p>recommendationId <code>{esc(answer.get('recommendationId'))}</code> · "
            f"{len(items)} items, {marked} exploration slots (items the model would not "
            "rank in these places with exploration off)</p>"
            + table(["#", "item", "score", "slot", "metadata", ""], rows, "results", classes))


def why(reader, query) -> tuple[str, str, None]:
    arn, item_id = _required(query, "campaignArn"), _required(query, "itemId")
    user_id = query.get("userId") or None
    reader.call("DescribeCampaign", campaignArn=arn)   # visible to this viewer, or 404
    answer = reader.inspector.why(arn, user_id, item_id)
    metadata = reader.inspector.item_metadata(
        arn, [item_id] + [i for found in answer["neighbours"].values() for i, _ in found]
        + [i for i, _ in answer["history"]])

    def meta(item: str) -> str:
        return esc(", ".join(f"{k}={v}" for k, v in metadata.get(item, {}).items()))

    body = f"<p>Item <b>{esc(item_id)}</b> {meta(item_id)}</p>"
    if user_id:
        rank = answer["rank"]
        body += (f"<p>For user <b>{esc(user_id)}</b> (history of {answer['historyLength']} "
                 f"events) it ranks <b>{esc(rank if rank else '—')}</b> of "
                 f"{answer['candidates']} items not in their history, exploration off"
                 + (f", score {answer['score']:.6f}" if answer["score"] is not None else "")
                 + ".</p>")
        body += _section("The user's recent history that scored it (newest first)", table(
            ["item", "similarity to this item in z", "metadata"],
            [[esc(i), esc("" if s is None else f"{s:+.3f}"), meta(i)]
             for i, s in answer["history"]], "history"))
    labels = {"z": "z = W[e; f] (what the model scores with)", "E": "E (item-ID embedding)",
              "F": "F (metadata features)"}
    for space, found in answer["neighbours"].items():
        body += _section(f"Nearest neighbours in {labels.get(space, space)}", table(
            ["item", "cosine similarity", "metadata"],
            [[esc(i), esc(f"{s:.3f}"), meta(i)] for i, s in found], f"neighbours-{space}"))
    return f"Why {item_id}", body, None


def tracker_summary(reader, arn: str) -> dict:
    tracker = reader.call("DescribeEventTracker", eventTrackerArn=arn)["eventTracker"]
    rows = reader.tracker_events(tracker["datasetGroupArn"])
    by_user: dict[str, list[dict]] = {}
    for row in rows:
        by_user.setdefault(row.get("USER_ID") or f"session {row.get('SESSION_ID')}",
                           []).append(row)
    latest = sorted(by_user.items(), key=lambda kv: -kv[1][-1].get("SEQ", 0))[:USERS_SHOWN]
    return {"tracker": tracker, "count": len(rows), "users": len(by_user),
            "at": time.time(),
            "latest": [{"user": user, "events": [
                {"itemId": e.get("ITEM_ID"), "eventType": e.get("EVENT_TYPE"),
                 "timestamp": e.get("TIMESTAMP")} for e in events[-LAST_EVENTS_PER_USER:]]}
                for user, events in latest]}


def event_tracker(reader, query) -> tuple[str, str, None]:
    arn = _required(query, "arn")
    summary = tracker_summary(reader, arn)
    tracker = summary["tracker"]
    body = table(["status", "tracking id", "dataset group"], [[
        status(tracker["status"]), f"<code>{esc(tracker['trackingId'])}</code>",
        link("/console/dataset-group", _name(tracker["datasetGroupArn"]),
             arn=tracker["datasetGroupArn"])]])
    body += (f'<section><h2>Events</h2><p><b id="event-count">{summary["count"]}</b> events '
             f'from <b id="user-count">{summary["users"]}</b> users (live)</p>'
             f'<div id="latest">{_latest_table(summary["latest"])}</div></section>')
    body += _LIVE_SCRIPT.replace("__URL__", json.dumps(
        "/console/event-tracker.json?arn=" + _quote(arn)))
    return f"Event tracker {tracker['name']}", body, None


def _latest_table(latest: list[dict]) -> str:
    return table(["user", f"last {LAST_EVENTS_PER_USER} events (oldest first)"], [
        [esc(entry["user"]), esc(", ".join(
            f"{e['itemId']} ({e['eventType']})" for e in entry["events"]))]
        for entry in latest], "latest")


# The count and the table refresh every 2 s from the JSON twin of this page.
_LIVE_SCRIPT = """<script>
(function(){
  const url = __URL__;
  async function tick(){
    try {
      const r = await fetch(url, {credentials: "same-origin"});
      if (r.ok) {
        const s = await r.json();
        const count = document.getElementById("event-count");
        count.textContent = s.count;
        count.dataset.refreshed = Date.now();
        document.getElementById("user-count").textContent = s.users;
        document.getElementById("latest").innerHTML = s.latestHtml;
      }
    } catch (e) {}
    setTimeout(tick, 2000);
  }
  setTimeout(tick, 2000);
})();
</script>"""


def event_tracker_json(reader, query) -> dict:
    summary = tracker_summary(reader, _required(query, "arn"))
    return {"count": summary["count"], "users": summary["users"],
            "latest": summary["latest"], "latestHtml": _latest_table(summary["latest"])}


def _quote(text: str) -> str:
    from urllib.parse import quote
    return quote(text, safe="")


def _required(query, name: str) -> str:
    value = (query.get(name) or "").strip()
    if not value:
        raise InvalidInputException(f"The page needs the query parameter {name}.")
    return value
