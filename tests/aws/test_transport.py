"""Answers botocore would hand on as if they were answers: cut off, empty or unparsable bodies,
retried where asking again does nothing twice, a clear error naming the call elsewhere; and
fields missing from an answer named with their call."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest

from dockyard.aws.transport import ATTEMPTS, AnswerError, MissingField, harden
from dockyard.polling import RetryableError

GOOD_TASKS = json.dumps({"tasks": [{"taskArn": "arn:aws:ecs:ap-southeast-2:123456789012:task/"
                                              "acme/0123456789abcdef0123456789abcdef"}],
                         "failures": []}).encode()


class Server:
    """Answers each request with the next of ``bodies`` (the last one repeats)."""

    def __init__(self) -> None:
        self.bodies: list[tuple[int, bytes, str]] = []
        self.requests: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                raw = self.rfile.read(length)
                server.requests.append({"target": self.headers.get("x-amz-target", ""),
                                        "body": raw.decode()})
                status, body, kind = server.bodies[min(len(server.requests),
                                                       len(server.bodies)) - 1]
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def client(self, service: str) -> Any:
        raw = boto3.client(service, region_name="ap-southeast-2",
                           endpoint_url=f"http://127.0.0.1:{self.http.server_address[1]}",
                           aws_access_key_id="k", aws_secret_access_key="s")
        return harden(raw, service, sleep=lambda _: None)

    def answer(self, *bodies: bytes, status: int = 200,
               kind: str = "application/x-amz-json-1.1") -> None:
        self.bodies = [(status, b, kind) for b in bodies]


@pytest.fixture
def server() -> Iterator[Server]:
    running = Server()
    yield running
    running.http.shutdown()


@pytest.mark.parametrize("fault", [b"", GOOD_TASKS[:40], b"<html>proxy error</html>"],
                         ids=["empty", "cut-off", "not-json"])
def test_a_read_with_a_bad_body_is_asked_again(server: Server, fault: bytes) -> None:
    server.answer(fault, GOOD_TASKS)
    answer = server.client("ecs").describe_tasks(cluster="acme", tasks=["t"])
    assert answer["tasks"][0]["taskArn"].endswith("0123456789abcdef0123456789abcdef")
    assert len(server.requests) == 2


def test_a_call_with_an_idempotency_token_is_asked_again_with_the_same_token(
        server: Server) -> None:
    server.answer(GOOD_TASKS[:40], GOOD_TASKS)
    server.client("ecs").run_task(cluster="acme", taskDefinition="build")
    tokens = [json.loads(r["body"])["clientToken"] for r in server.requests]
    assert len(tokens) == 2
    assert tokens[0] == tokens[1]


def test_a_write_that_may_have_taken_effect_is_not_repeated(server: Server) -> None:
    server.answer(b'{"cluster": {"clusterArn": "arn:aws:ecs:ap-south')
    with pytest.raises(AnswerError) as caught:
        server.client("ecs").create_cluster(clusterName="acme")
    assert len(server.requests) == 1
    assert caught.value.message == "AWS's answer to ecs CreateCluster was cut off (its JSON " \
                                   "does not parse)"
    assert "may have taken effect" in (caught.value.hint or "")


def test_a_read_that_stays_broken_is_an_error_naming_the_call(server: Server) -> None:
    server.answer(b"")
    with pytest.raises(AnswerError, match=f"AWS's answer to logs GetLogEvents was empty, "
                                          f"{ATTEMPTS} times") as caught:
        server.client("logs").get_log_events(logGroupName="g", logStreamName="s")
    assert len(server.requests) == ATTEMPTS
    # a waiting loop skips such a round, as it does a throttled one
    assert isinstance(caught.value, RetryableError)


def test_unparsable_xml_is_asked_again(server: Server) -> None:
    good = (b'<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">'
            b"<DescribeStacksResult><Stacks/></DescribeStacksResult>"
            b"<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>"
            b"</DescribeStacksResponse>")
    server.answer(good[:60], good, kind="text/xml")
    assert server.client("cloudformation").describe_stacks()["Stacks"] == []
    assert len(server.requests) == 2


def test_a_missing_field_names_the_call_and_is_still_a_key_error(server: Server) -> None:
    server.answer(b'{"tasks": [{}], "failures": []}')
    answer = server.client("ecs").describe_tasks(cluster="acme", tasks=["t"])
    with pytest.raises(MissingField, match="AWS's answer to ecs DescribeTasks has no taskArn"):
        answer["tasks"][0]["taskArn"]
    with pytest.raises(KeyError):
        answer["tasks"][0]["lastStatus"]
    assert answer["tasks"][0].get("lastStatus") is None
    assert len(server.requests) == 1


def test_error_answers_are_left_to_botocore(server: Server) -> None:
    server.answer(b'{"__type": "ClusterNotFoundException", "message": "no cluster"}',
                  status=400)
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError, match="ClusterNotFoundException"):
        server.client("ecs").describe_services(cluster="nope", services=["x"])
    assert len(server.requests) == 1


def test_a_read_that_reaches_no_answer_is_asked_again_by_a_waiting_loop() -> None:
    """Every connection closed before an answer, through botocore's own retries: for a read
    the error lets a waiting loop ask again at its next round; a write fails as it did."""
    import socket

    from botocore.config import Config

    from dockyard.aws.errors import AwsError

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]

    def reset_each() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            connection.recv(65536)
            connection.close()  # no answer at all

    threading.Thread(target=reset_each, daemon=True).start()

    def client(service: str) -> Any:
        raw = boto3.client(service, region_name="ap-southeast-2",
                           endpoint_url=f"http://127.0.0.1:{port}", aws_access_key_id="k",
                           aws_secret_access_key="s",
                           config=Config(retries={"max_attempts": 1, "mode": "standard"}))
        return harden(raw, service, sleep=lambda _: None)

    with pytest.raises(RetryableError, match="logs GetLogEvents: the connection to AWS failed"):
        client("logs").get_log_events(logGroupName="g", logStreamName="s")
    with pytest.raises(AwsError, match="ecs UpdateService: the connection to AWS failed") \
            as write:  # no idempotency token: it might have been done
        client("ecs").update_service(cluster="acme", service="web", desiredCount=1)
    assert not isinstance(write.value, RetryableError), "a write is never asked again blindly"
    listener.close()
