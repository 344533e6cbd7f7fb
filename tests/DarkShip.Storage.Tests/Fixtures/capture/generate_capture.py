#!/usr/bin/env python3
"""Capture files written by an independent Avro implementation (Debian's python3-avro), for CaptureFileTests.

Event Hubs Capture writes Avro object container files of `EventData` records (the schema below, as the service
documents it). This script writes two such files the way the service does, with Apache Avro's Python library,
and `expected.json`: every event each file holds (sequence number, offset, enqueue time, body, partition key),
block by block, so the C# reader is checked against what another implementation wrote.

  deflate.avro     deflate codec, three blocks (explicit syncs), mirror events of schema 1, one of schema 2,
                   one body that is not JSON and one null body
  null-codec.avro  no compression, one block

Regenerate (apt-get install python3-avro): /usr/bin/python3 generate_capture.py
"""
import datetime
import io
import json
import os

import avro.datafile
import avro.io
import avro.schema

HERE = os.path.dirname(os.path.abspath(__file__))

SCHEMA = avro.schema.parse(json.dumps({
    "type": "record", "name": "EventData", "namespace": "Microsoft.ServiceBus.Messaging",
    "fields": [
        {"name": "SequenceNumber", "type": "long"},
        {"name": "Offset", "type": "string"},
        {"name": "EnqueuedTimeUtc", "type": "string"},
        {"name": "SystemProperties", "type": {"type": "map", "values": ["long", "double", "string", "bytes"]}},
        {"name": "Properties", "type": {"type": "map", "values": ["long", "double", "string", "bytes", "null"]}},
        {"name": "Body", "type": ["null", "bytes"]},
    ],
}))

START = datetime.datetime(2026, 11, 30, 10, 15, 0, tzinfo=datetime.timezone.utc)


def capture_time(at):
    """Capture's text form of an enqueue time: US month/day order, 12-hour clock, UTC."""
    hour = at.hour % 12 or 12
    return f"{at.month}/{at.day}/{at.year} {hour}:{at.minute:02d}:{at.second:02d} {'AM' if at.hour < 12 else 'PM'}"


def mirror_event(i, at, schema=1):
    return {
        "schema": schema,
        "predictionId": f"0{int(at.timestamp() * 1000):012x}{i:08x}",
        "model": "fraud",
        "timestamp": at.isoformat().replace("+00:00", "Z"),
        "partitionKey": f"c{i}",
        "entities": {"consumer": f"c{i}"},
        "groups": {"consumer": {"status": "found", "asOf": "2026-11-29T00:00:00Z", "ageSeconds": 123.5,
                                "values": {"txn_count_7d": i, "is_verified": i % 2 == 0}}},
        "inline": {"amount": 10.5 * i},
        "features": {"amount": 10.5 * i, "txn_count_7d": i, "is_verified": None if i % 5 == 0 else float(i % 2 == 0)},
        "degraded": [],
        "outputs": [{"version": "1", "arm": "champion", "scores": [round(0.01 * i, 6)], "served": True}],
        "latencyMs": {"features": 1.25, "total": 2.5},
    }


def write(name, codec, blocks):
    expected = []
    buffer = io.BytesIO()
    writer = avro.datafile.DataFileWriter(buffer, avro.io.DatumWriter(), SCHEMA, codec=codec)
    sequence = 0
    offset = 0
    for block in blocks:
        events = []
        for body in block:
            at = START + datetime.timedelta(seconds=sequence * 7)
            key = f"c{sequence}" if sequence % 3 else None
            system = {"x-opt-sequence-number": sequence, "x-opt-offset": str(offset), "x-opt-enqueued-time": capture_time(at)}
            if key is not None:
                system["x-opt-partition-key"] = key
            writer.append({
                "SequenceNumber": sequence,
                "Offset": str(offset),
                "EnqueuedTimeUtc": capture_time(at),
                "SystemProperties": system,
                "Properties": {"origin": "generate_capture.py", "n": sequence},
                "Body": body,
            })
            events.append({
                "sequenceNumber": sequence,
                "offset": str(offset),
                "enqueuedTime": at.isoformat().replace("+00:00", "Z"),
                "body": None if body is None else body.decode("utf-8", "replace"),
                "partitionKey": key,
            })
            offset += 0 if body is None else len(body)
            sequence += 1
        writer.sync()  # ends the block: the next events start a block of their own
        expected.append(events)
    writer.flush()
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(buffer.getvalue())
    return expected


def body(event):
    return json.dumps(event, separators=(",", ":")).encode("utf-8")


deflate_blocks = [
    [body(mirror_event(i, START + datetime.timedelta(seconds=i))) for i in range(0, 4)],
    [body(mirror_event(4, START)), body(mirror_event(5, START, schema=2)), b"not json at all", None],
    [body(mirror_event(i, START + datetime.timedelta(seconds=i))) for i in range(6, 10)],
]
null_blocks = [[body(mirror_event(i, START + datetime.timedelta(minutes=i))) for i in range(3)]]

expected = {
    "deflate.avro": write("deflate.avro", "deflate", deflate_blocks),
    "null-codec.avro": write("null-codec.avro", "null", null_blocks),
}
with open(os.path.join(HERE, "expected.json"), "w", encoding="utf-8") as f:
    json.dump(expected, f, indent=1)
    f.write("\n")
