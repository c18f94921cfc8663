"""Malformed and hostile input against the castle broker process, on raw sockets.

Each test opens a well-behaved connection first, then sends one kind of bad
input on another: garbage bytes, a frame over socket.request.max.bytes, a
negative frame size, an unknown API key, an unsupported version, truncated
requests. Each must get an error response (with the request's correlation
id) or a closed connection — never silence on an open connection — and
afterwards the broker must still answer on the connection opened before and
on a new one, and the process must be alive.

Also checks the two protocol facts every client depends on: requests
pipelined on one connection are answered in order (kafka-python sends
ApiVersions v0 and Metadata v0 back to back), and ApiVersions v3 is answered
with UNSUPPORTED_VERSION and the key list in v0 format.
"""

import random
import socket
import struct
import time
import unittest

from castle_broker import BrokerTestCase

REQUEST_MAX_BYTES = 4096
ANSWER_TIMEOUT_S = 10
API_VERSIONS = 18
METADATA = 3
UNSUPPORTED_VERSION = 35


def request(api_key, version, correlation_id, body=b"", client_id=b"castle-test"):
    """A request framed with header v1 (key, version, correlation id, client id)."""
    header = struct.pack(">hhih", api_key, version, correlation_id, len(client_id)) + client_id
    payload = header + body
    return struct.pack(">i", len(payload)) + payload


def recv_exact(sock, n):
    out = b""
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            return None
        out += chunk
    return out


def read_frame(sock):
    """The next response frame, or None if the broker closed the connection."""
    try:
        size = recv_exact(sock, 4)
        if size is None:
            return None
        return recv_exact(sock, struct.unpack(">i", size)[0])
    except (ConnectionResetError, BrokenPipeError):
        return None


def parse_api_versions_v0(frame):
    """(correlation id, error code, {api key: (min, max)}) of an ApiVersions v0 response."""
    correlation_id, error_code, count = struct.unpack_from(">ihi", frame, 0)
    keys = {}
    for i in range(count):
        key, lo, hi = struct.unpack_from(">hhh", frame, 10 + 6 * i)
        keys[key] = (lo, hi)
    return correlation_id, error_code, keys


class BadInputTest(BrokerTestCase):
    broker_props = {"socket.request.max.bytes": str(REQUEST_MAX_BYTES)}

    def setUp(self):
        super().setUp()
        self.sockets = []
        self.bystander = self.connect()
        self.assert_answers(self.bystander, 1)

    def tearDown(self):
        for s in self.sockets:
            s.close()
        super().tearDown()

    def connect(self):
        s = socket.create_connection(self.broker.host_port(), timeout=ANSWER_TIMEOUT_S)
        self.sockets.append(s)
        return s

    def assert_answers(self, sock, correlation_id):
        sock.sendall(request(API_VERSIONS, 0, correlation_id))
        frame = read_frame(sock)
        self.assertIsNotNone(frame, "the broker closed a well-behaved connection")
        got_id, error, keys = parse_api_versions_v0(frame)
        self.assertEqual((got_id, error), (correlation_id, 0))
        self.assertIn(METADATA, keys)

    def assert_error_or_close(self, sock, correlation_id):
        """The bad request got an answer carrying its correlation id, or the
        connection was closed; silence on an open connection fails."""
        try:
            frame = read_frame(sock)
        except socket.timeout:
            self.fail(f"no answer and no close within {ANSWER_TIMEOUT_S} s")
        if frame is not None and correlation_id is not None:
            self.assertEqual(struct.unpack_from(">i", frame, 0)[0], correlation_id)
        return frame

    def assert_closed(self, sock):
        try:
            frame = read_frame(sock)
        except socket.timeout:
            self.fail(f"the connection is still open after {ANSWER_TIMEOUT_S} s")
        self.assertIsNone(frame, "expected the broker to close the connection")

    def assert_still_serving(self):
        self.assertTrue(self.broker.alive(), self.broker.stderr())
        self.assert_answers(self.bystander, 2)
        self.assert_answers(self.connect(), 3)

    def test_garbage_bytes(self):
        # An HTTP request: its first four bytes read as a frame of ~1.2 GB.
        s = self.connect()
        s.sendall(b"GET / HTTP/1.1\r\nHost: castle\r\n\r\n")
        self.assert_closed(s)
        # Random bytes inside a well-formed frame.
        s = self.connect()
        garbage = random.Random(4).randbytes(64)  # seeded: the same bytes each run
        s.sendall(struct.pack(">i", len(garbage)) + garbage)
        self.assert_error_or_close(s, None)
        self.assert_still_serving()

    def test_frame_over_the_limit(self):
        s = self.connect()
        body = b"\0" * (REQUEST_MAX_BYTES + 1 - 16)
        frame = request(METADATA, 0, 9, body)
        self.assertGreater(len(frame) - 4, REQUEST_MAX_BYTES)
        try:
            s.sendall(frame)
        except (ConnectionResetError, BrokenPipeError):
            pass
        self.assert_closed(s)
        self.assert_still_serving()

    def test_negative_and_empty_frame_sizes(self):
        for size in (-1, -2147483648, 0):
            with self.subTest(size=size):
                s = self.connect()
                s.sendall(struct.pack(">i", size) + b"\0" * 16)
                self.assert_closed(s)
        self.assert_still_serving()

    def test_unknown_api_key(self):
        s = self.connect()
        s.sendall(request(999, 0, 77, b"\0" * 8))
        self.assert_error_or_close(s, 77)
        self.assert_still_serving()

    def test_unsupported_versions(self):
        # Metadata v99 and Fetch v99: no client sends them.
        for key in (METADATA, 1):
            with self.subTest(api_key=key):
                s = self.connect()
                s.sendall(request(key, 99, 78, b"\0" * 8))
                self.assert_error_or_close(s, 78)
        self.assert_still_serving()

    def test_api_versions_v3_gets_unsupported_version_in_v0_format(self):
        s = self.connect()
        # Header v2 (client id, then an empty tagged-field section) and the
        # v3 body: client software name and version as compact strings.
        header = struct.pack(">hhih", API_VERSIONS, 3, 5, 4) + b"test" + b"\0"
        body = b"\x05kcat" + b"\x041.0" + b"\0"
        s.sendall(struct.pack(">i", len(header + body)) + header + body)
        frame = self.assert_error_or_close(s, 5)
        self.assertIsNotNone(frame, "ApiVersions v3 must be answered, not closed")
        correlation_id, error, keys = parse_api_versions_v0(frame)
        self.assertEqual(error, UNSUPPORTED_VERSION)
        self.assertIn(API_VERSIONS, keys)
        self.assertTrue(all(lo == 0 for lo, _ in keys.values()), f"minimum versions: {keys}")
        self.assert_still_serving()

    def test_truncated_header(self):
        # A frame of three bytes: not even an API key and version.
        s = self.connect()
        s.sendall(struct.pack(">i", 3) + b"\0\x03\0")
        self.assert_closed(s)
        self.assert_still_serving()

    def test_truncated_body(self):
        # Metadata v1 whose topic array claims five names and carries none.
        s = self.connect()
        s.sendall(request(METADATA, 1, 31, struct.pack(">i", 5)))
        self.assert_error_or_close(s, 31)
        self.assert_still_serving()

    def test_frame_cut_short_by_end_of_stream(self):
        s = self.connect()
        s.sendall(struct.pack(">i", 100) + b"\0\x12\0\0")
        s.shutdown(socket.SHUT_WR)
        self.assert_closed(s)
        self.assert_still_serving()

    def test_pipelined_requests_answered_in_order(self):
        s = self.connect()
        batch = b"".join([request(API_VERSIONS, 0, 101),
                          request(METADATA, 0, 102, struct.pack(">i", 0)),
                          request(API_VERSIONS, 1, 103),
                          request(METADATA, 1, 104, struct.pack(">i", -1))])
        s.sendall(batch)
        ids = []
        for _ in range(4):
            frame = read_frame(s)
            self.assertIsNotNone(frame, "closed while answering pipelined requests")
            ids.append(struct.unpack_from(">i", frame, 0)[0])
        self.assertEqual(ids, [101, 102, 103, 104])

    def test_many_clients_then_hostile_one(self):
        clients = [self.connect() for _ in range(20)]
        for i, c in enumerate(clients):
            self.assert_answers(c, 1000 + i)
        hostile = self.connect()
        hostile.sendall(b"\x00\x01\x02")  # then silence: an incomplete size prefix
        for i, c in enumerate(clients):
            self.assert_answers(c, 2000 + i)
        self.assert_still_serving()


if __name__ == "__main__":
    unittest.main()
