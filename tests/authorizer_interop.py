#!/usr/bin/env python3
"""Drive the real release authorizer `bootstrap` with tokens from an independent JWT library.

Usage: target/venv/bin/python tests/authorizer_interop.py BOOTSTRAP [--slow-rotation]

BOOTSTRAP is the release binary of the generated `functions/authorizer` crate (tests/run
builds it). Everything runs on 127.0.0.1:

* RSA keys are generated with `cryptography`; tokens are signed with PyJWT, not with
  jsonwebtoken (which the authorizer uses), so the two implementations must agree on
  base64url, the RS256 signature and the claims.
* The JWKS (built from the public key by PyJWT, with `kid`) is served by http.server in a
  thread at /.well-known/jwks.json; AUTH_ISSUER is that server's base URL with a
  trailing slash, as Auth0 writes it.
* A minimal Lambda Runtime API (`/2018-06-01/runtime/invocation/next`, `/{id}/response`,
  `/{id}/error`) hands the bootstrap API Gateway TOKEN authorizer events.

The bootstrap is started afresh for every case (its JWKS cache and its 60 s refetch
limit start empty), so the cases do not depend on each other's order. Outcomes are
asserted exactly: the whole Allow/Deny response, the whole `Unauthorized` error, the
refusal reason the bootstrap logs, and how many times it fetched the JWKS.

--slow-rotation adds a case that waits 61 s for the refetch limit to pass (not run by
tests/run).

Prints one line per case and ends with `authorizer_interop: N passed, M failed`; exits
non-zero when a case failed. The bootstrap and both servers are always stopped.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable

import jwt  # PyJWT
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

AUDIENCE = "https://api.example"
METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/user-profile"
STAGE_RESOURCE = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/*/*"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:interop-authorizer"
JWKS_PATH = "/.well-known/jwks.json"
SUB = "auth0|interop-user"
SCOPE = "openid profile read:videos"
KID = "interop-key-1"
NEW_KID = "interop-key-2"
INVOKE_TIMEOUT_S = 10.0  # the bootstrap's JWKS fetch gives up after 3 s
STOP_TIMEOUT_S = 5.0
POLL_S = 0.05  # serve_forever's shutdown poll: each case stops a server
UNAUTHORIZED = {"errorType": "Unauthorized", "errorMessage": "Unauthorized"}


class CaseFailed(Exception):
    pass


# --------------------------------------------------------------------------
# keys and tokens (PyJWT + cryptography)


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwk(key: rsa.RSAPrivateKey, kid: str) -> dict:
    entry = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    entry.update(kid=kid, use="sig", alg="RS256")
    return entry


def public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def rs(claims: dict, key: rsa.RSAPrivateKey, kid: str | None, algorithm: str = "RS256") -> str:
    headers = {"kid": kid} if kid is not None else None
    return jwt.encode(claims, key, algorithm=algorithm, headers=headers)


class UncheckedHMAC(jwt.algorithms.HMACAlgorithm):
    """PyJWT's HMAC, minus its refusal of PEM keys as secrets (the attack being tested)."""

    def prepare_key(self, key: str | bytes) -> bytes:
        return key if isinstance(key, bytes) else key.encode()


def hs256_with(secret: bytes, claims: dict, kid: str) -> str:
    jws = jwt.api_jws.PyJWS()
    jws.unregister_algorithm("HS256")
    jws.register_algorithm("HS256", UncheckedHMAC(UncheckedHMAC.SHA256))
    payload = json.dumps(claims, separators=(",", ":")).encode()
    token = jws.encode(payload, secret, algorithm="HS256", headers={"kid": kid})
    # Cross-check the signature with the standard library.
    signing_input, _, signature = token.rpartition(".")
    want = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    if jwt.utils.base64url_decode(signature) != want:
        raise RuntimeError("HS256 token signature does not match hmac-sha256")
    return token


# --------------------------------------------------------------------------
# loopback servers


class QuietServer(ThreadingHTTPServer):
    """Threads die with the script; a client that hung up (the killed bootstrap) is not news."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class JwksServer:
    """Serves `self.document` at JWKS_PATH; counts the GETs."""

    def __init__(self) -> None:
        self.document: dict = {"keys": []}
        self.hits: list[str] = []
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                with owner.lock:
                    owner.hits.append(self.path)
                    doc = owner.document
                if self.path != JWKS_PATH:
                    self.send_error(404)
                    return
                body = json.dumps(doc).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(POLL_S,),
                                       daemon=True)
        self.thread.start()

    def serve(self, *entries: dict) -> None:
        with self.lock:
            self.document = {"keys": list(entries)}
            self.hits.clear()

    def fetches(self) -> int:
        with self.lock:
            return len(self.hits)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class RuntimeApi:
    """A minimal Lambda Runtime API: one event at a time, answers recorded by request id."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.queue: list[tuple[str, dict]] = []
        self.results: dict[str, tuple[str, Any]] = {}
        self.init_error: Any = None
        self.stopping = False
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                if self.path != "/2018-06-01/runtime/invocation/next":
                    self.send_error(404)
                    return
                with owner.cond:
                    # Long poll, as Lambda does; bounded by `stopping` (set at teardown).
                    while not owner.queue and not owner.stopping:
                        owner.cond.wait(0.2)
                    if owner.stopping:
                        return  # the bootstrap is being killed: close without an answer
                    request_id, event = owner.queue.pop(0)
                body = json.dumps(event).encode()
                self.send_response(200)
                self.send_header("Lambda-Runtime-Aws-Request-Id", request_id)
                self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 30_000))
                self.send_header("Lambda-Runtime-Invoked-Function-Arn", FUNCTION_ARN)
                self.send_header("Lambda-Runtime-Trace-Id",
                                 "Root=1-00000000-000000000000000000000000;Sampled=0")
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                try:
                    data = json.loads(raw) if raw else None
                except ValueError:
                    data = raw.decode(errors="replace")
                parts = self.path.strip("/").split("/")
                # 2018-06-01/runtime/invocation/{id}/response|error, 2018-06-01/runtime/init/error
                with owner.cond:
                    if parts[2:4] == ["init", "error"]:
                        owner.init_error = data
                    elif len(parts) == 5 and parts[2] == "invocation" and parts[4] in ("response", "error"):
                        owner.results[parts[3]] = (parts[4], data)
                    else:
                        self.send_error(404)
                        return
                    owner.cond.notify_all()
                self.send_response(202)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(POLL_S,),
                                       daemon=True)
        self.thread.start()

    def stop(self) -> None:
        with self.cond:
            self.stopping = True
            self.cond.notify_all()
        self.server.shutdown()
        self.server.server_close()


class Bootstrap:
    """The authorizer process with its own Runtime API; a context manager that always kills it."""

    counter = 0

    def __init__(self, binary: str, jwks: JwksServer, workdir: Path) -> None:
        self.binary = binary
        self.jwks = jwks
        self.workdir = workdir
        self.runtime: RuntimeApi | None = None
        self.proc: subprocess.Popen | None = None
        self.stderr_path = workdir / f"bootstrap-{os.getpid()}-{Bootstrap.counter}.stderr"
        Bootstrap.counter += 1

    def __enter__(self) -> "Bootstrap":
        self.runtime = RuntimeApi()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "AWS_LAMBDA_RUNTIME_API": self.runtime.address,
            "AWS_LAMBDA_FUNCTION_NAME": "interop-authorizer",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_REGION": "us-east-1",
            "AUTH_ISSUER": issuer(self.jwks),
            "AUTH_AUDIENCE": AUDIENCE,
            "AUTH_JWKS_URL": f"http://127.0.0.1:{self.jwks.port}{JWKS_PATH}",
        }
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen([self.binary], env=env, stdin=subprocess.DEVNULL,
                                         stdout=err, stderr=subprocess.STDOUT)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        if self.proc is not None:
            try:
                self.proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                pass
        if self.runtime is not None:
            self.runtime.stop()

    def invoke(self, event: dict) -> tuple[str, Any]:
        assert self.runtime is not None and self.proc is not None
        request_id = f"interop-{time.monotonic_ns()}"
        rt = self.runtime
        deadline = time.monotonic() + INVOKE_TIMEOUT_S
        with rt.cond:
            rt.queue.append((request_id, event))
            rt.cond.notify_all()
            while request_id not in rt.results:
                if rt.init_error is not None:
                    raise CaseFailed(f"bootstrap reported an init error: {rt.init_error}")
                if self.proc.poll() is not None:
                    raise CaseFailed(f"bootstrap exited with status {self.proc.returncode}: "
                                     f"{self.log()!r}")
                if time.monotonic() > deadline:
                    raise CaseFailed(f"no answer within {INVOKE_TIMEOUT_S:.0f} s")
                rt.cond.wait(0.05)
            return rt.results.pop(request_id)

    def log(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""

    def refusals(self) -> list[str]:
        marker = "authorizer: Unauthorized: "
        return [line.split(marker, 1)[1].strip() for line in self.log().splitlines() if marker in line]


def issuer(jwks: JwksServer) -> str:
    return f"http://127.0.0.1:{jwks.port}/"


# --------------------------------------------------------------------------
# expectations


def event(token: str, scheme: str = "Bearer") -> dict:
    return {"type": "TOKEN", "authorizationToken": f"{scheme} {token}", "methodArn": METHOD_ARN}


def allow(sub: str = SUB, scope: str = SCOPE) -> tuple[str, Any]:
    return ("response", {
        "principalId": sub,
        "policyDocument": {"Version": "2012-10-17", "Statement": [
            {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": STAGE_RESOURCE}]},
        "context": {"sub": sub, "scope": scope},
    })


def deny(sub: str = SUB) -> tuple[str, Any]:
    return ("response", {
        "principalId": sub,
        "policyDocument": {"Version": "2012-10-17", "Statement": [
            {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": STAGE_RESOURCE}]},
    })


def unauthorized() -> tuple[str, Any]:
    return ("error", UNAUTHORIZED)


def short(outcome: tuple[str, Any]) -> str:
    kind, body = outcome
    if kind == "error":
        return "Unauthorized" if body == UNAUTHORIZED else f"error {json.dumps(body)}"
    try:
        return body["policyDocument"]["Statement"][0]["Effect"]
    except (TypeError, KeyError, IndexError):
        return f"response {json.dumps(body)}"


class Ctx:
    """What a case needs: keys, the JWKS server, a way to start the bootstrap."""

    def __init__(self, binary: str, workdir: Path) -> None:
        self.binary = binary
        self.workdir = workdir
        self.key = new_key()
        self.other_key = new_key()
        self.new_key = new_key()
        self.jwks = JwksServer()

    def claims(self, **changes: Any) -> dict:
        now = int(time.time())
        claims = {
            "iss": issuer(self.jwks),
            "sub": SUB,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + 600,
            "scope": SCOPE,
        }
        for name, value in changes.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        return claims

    def token(self, **changes: Any) -> str:
        return rs(self.claims(**changes), self.key, KID)

    def bootstrap(self) -> Bootstrap:
        return Bootstrap(self.binary, self.jwks, self.workdir)


def expect(boot: Bootstrap, ctx: Ctx, token_event: dict, want: tuple[str, Any],
           reason: str | None, fetches: int) -> str:
    """Invoke once and compare the answer, the logged refusal reason and the JWKS fetch count
    (cumulative since the JWKS was last set). Returns the short outcome."""
    before = len(boot.refusals())
    got = boot.invoke(token_event)
    if got != want:
        raise CaseFailed(f"expected {short(want)} {json.dumps(want[1])}, got {got[0]} {json.dumps(got[1])}")
    # The refusal line is written before the answer is posted.
    new = boot.refusals()[before:]
    want_reasons = [reason] if reason is not None else []
    if new != want_reasons:
        raise CaseFailed(f"logged refusal reason(s) {new}, expected {want_reasons}; log: {boot.log()!r}")
    if ctx.jwks.fetches() != fetches:
        raise CaseFailed(f"{ctx.jwks.fetches()} JWKS fetch(es), expected {fetches} "
                         f"(paths {ctx.jwks.hits})")
    return short(got)


# --------------------------------------------------------------------------
# cases: each returns a short description of what it saw


def one(ctx: Ctx, token: str, want: tuple[str, Any], reason: str | None, fetches: int,
        scheme: str = "Bearer", jwks: list[dict] | None = None) -> str:
    ctx.jwks.serve(*(jwks if jwks is not None else [jwk(ctx.key, KID)]))
    with ctx.bootstrap() as boot:
        return expect(boot, ctx, event(token, scheme), want, reason, fetches)


def case_valid(ctx: Ctx) -> str:
    token = ctx.token()
    # PyJWT agrees with itself through the served JWKS (the JWKS document is right).
    key = jwt.PyJWK(jwk(ctx.key, KID)).key
    decoded = jwt.decode(token, key, algorithms=["RS256"], audience=AUDIENCE, issuer=issuer(ctx.jwks))
    if decoded["sub"] != SUB:
        raise CaseFailed("PyJWT cannot read back its own token")
    return one(ctx, token, allow(), None, 1)


def case_auth0_audience(ctx: Ctx) -> str:
    aud = [AUDIENCE, f"https://tenant.example.auth0.com/userinfo"]
    return one(ctx, ctx.token(aud=aud), allow(), None, 1)


def case_expired(ctx: Ctx) -> str:
    now = int(time.time())
    # 5 minutes past: well beyond the authorizer's 30 s leeway.
    return one(ctx, ctx.token(iat=now - 900, exp=now - 300), unauthorized(), "Expired", 1)


def case_nbf_future(ctx: Ctx) -> str:
    now = int(time.time())
    return one(ctx, ctx.token(nbf=now + 300), unauthorized(), "NotYetValid", 1)


def case_wrong_aud(ctx: Ctx) -> str:
    return one(ctx, ctx.token(aud="https://api.other.example"), deny(), None, 1)


def case_issuer_without_slash(ctx: Ctx) -> str:
    return one(ctx, ctx.token(iss=issuer(ctx.jwks).rstrip("/")), deny(), None, 1)


def case_missing_aud(ctx: Ctx) -> str:
    return one(ctx, ctx.token(aud=None), unauthorized(), 'MissingClaim("aud")', 1)


def case_other_key_same_kid(ctx: Ctx) -> str:
    token = rs(ctx.claims(), ctx.other_key, KID)
    return one(ctx, token, unauthorized(), "InvalidSignature", 1)


def case_unknown_kid(ctx: Ctx) -> str:
    token = rs(ctx.claims(), ctx.key, "no-such-kid")
    # Exactly one fetch at cold start; the refetch for the unknown kid is rate-limited.
    return one(ctx, token, unauthorized(), "UnknownKey", 1)


def case_alg_none(ctx: Ctx) -> str:
    token = jwt.encode(ctx.claims(), None, algorithm="none", headers={"kid": KID})
    if not token.endswith("."):
        raise CaseFailed(f"PyJWT's alg=none token has a signature: {token}")
    # Refused on the header alone, before any key is looked at (no JWKS fetch). jsonwebtoken
    # has no `none` algorithm at all, so the header does not even parse: MalformedToken.
    return one(ctx, token, unauthorized(), "MalformedToken", 0)


def case_hs256_public_key(ctx: Ctx) -> str:
    pem = public_pem(ctx.key)
    try:
        jwt.encode(ctx.claims(), pem, algorithm="HS256", headers={"kid": KID})
        stock = "PyJWT signed it"
    except jwt.exceptions.InvalidKeyError:
        stock = "stock PyJWT refuses a PEM as HMAC secret; signed through PyJWS with the check removed"
    token = hs256_with(pem, ctx.claims(), KID)
    return one(ctx, token, unauthorized(), "Algorithm", 0) + f" ({stock})"


def case_rs512(ctx: Ctx) -> str:
    token = rs(ctx.claims(), ctx.key, KID, algorithm="RS512")
    return one(ctx, token, unauthorized(), "Algorithm", 0)


def case_no_kid(ctx: Ctx) -> str:
    token = rs(ctx.claims(), ctx.key, None)
    return one(ctx, token, unauthorized(), "MissingKid", 0)


def case_garbage(ctx: Ctx) -> str:
    return one(ctx, "garbage", unauthorized(), "MalformedToken", 0)


def case_rotation(ctx: Ctx) -> str:
    # The tenant rotated: the JWKS now publishes only a new key with a new kid. A cold
    # bootstrap fetches it and accepts tokens of the new key, and no longer the old one.
    ctx.jwks.serve(jwk(ctx.new_key, NEW_KID))
    with ctx.bootstrap() as boot:
        a = expect(boot, ctx, event(rs(ctx.claims(), ctx.new_key, NEW_KID)), allow(), None, 1)
        b = expect(boot, ctx, event(ctx.token()), unauthorized(), "UnknownKey", 1)
    return f"new key {a}, old key {b}, 1 JWKS fetch"


def case_rotation_warm(ctx: Ctx) -> str:
    # A warm bootstrap that fetched the JWKS less than 60 s ago does not refetch for a new
    # kid: tokens of a key published after its fetch are refused until the limit passes.
    ctx.jwks.serve(jwk(ctx.key, KID))
    with ctx.bootstrap() as boot:
        a = expect(boot, ctx, event(ctx.token()), allow(), None, 1)
        ctx.jwks.serve(jwk(ctx.key, KID), jwk(ctx.new_key, NEW_KID))
        b = expect(boot, ctx, event(rs(ctx.claims(), ctx.new_key, NEW_KID)),
                   unauthorized(), "UnknownKey", 0)
        c = expect(boot, ctx, event(ctx.token()), allow(), None, 0)
    return f"old key {a}; new kid within 60 s {b} (no refetch); old key still {c}"


def case_rotation_slow(ctx: Ctx) -> str:
    # The same, waiting out the 60 s limit: the new kid triggers one refetch and is accepted;
    # the old key, gone from the new JWKS, is then refused without another fetch.
    ctx.jwks.serve(jwk(ctx.key, KID))
    with ctx.bootstrap() as boot:
        expect(boot, ctx, event(ctx.token()), allow(), None, 1)
        ctx.jwks.serve(jwk(ctx.new_key, NEW_KID))
        time.sleep(61)
        a = expect(boot, ctx, event(rs(ctx.claims(), ctx.new_key, NEW_KID)), allow(), None, 1)
        b = expect(boot, ctx, event(ctx.token()), unauthorized(), "UnknownKey", 1)
    return f"after 61 s: new kid {a} (1 refetch), old key {b}"


CASES: list[tuple[str, Callable[[Ctx], str]]] = [
    ("key rotation: cold start after the JWKS switched to a new key/kid -> Allow", case_rotation),
    ("valid RS256 -> Allow for the stage, principalId = sub, context sub/scope", case_valid),
    ("aud array [API, https://TENANT/userinfo] (Auth0) -> Allow", case_auth0_audience),
    ("expired (exp 5 min ago) -> Unauthorized", case_expired),
    ("nbf 5 min in the future -> Unauthorized", case_nbf_future),
    ("wrong aud -> Deny", case_wrong_aud),
    ("issuer without the trailing slash -> Deny", case_issuer_without_slash),
    ("no aud -> Unauthorized", case_missing_aud),
    ("signed by another key with the same kid -> Unauthorized", case_other_key_same_kid),
    ("unknown kid -> Unauthorized", case_unknown_kid),
    ("alg none -> Unauthorized", case_alg_none),
    ("HS256 with the public key PEM as secret -> Unauthorized", case_hs256_public_key),
    ("RS512 with the right key -> Unauthorized (RS256 only)", case_rs512),
    ("no kid in the header -> Unauthorized", case_no_kid),
    ("garbage token -> Unauthorized", case_garbage),
    ("key rotation while warm, within the 60 s refetch limit -> new kid Unauthorized",
     case_rotation_warm),
]


def main(argv: list[str]) -> int:
    sys.stdout.reconfigure(line_buffering=True)
    args = [a for a in argv[1:] if not a.startswith("--")]
    flags = {a for a in argv[1:] if a.startswith("--")}
    if len(args) != 1 or flags - {"--slow-rotation"}:
        print(f"usage: {argv[0]} BOOTSTRAP [--slow-rotation]", file=sys.stderr)
        return 2
    binary = args[0]
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        print(f"authorizer_interop: {binary} is not an executable file", file=sys.stderr)
        return 2
    cases = list(CASES)
    if "--slow-rotation" in flags:
        cases.append(("key rotation after the 60 s refetch limit -> new kid Allow (slow)",
                      case_rotation_slow))

    print(f"PyJWT {jwt.__version__}; bootstrap {binary}")
    passed = failed = 0
    ctx = None
    with tempfile.TemporaryDirectory(prefix="authorizer_interop.") as tmp:
        try:
            ctx = Ctx(binary, Path(tmp))
            print(f"JWKS on http://127.0.0.1:{ctx.jwks.port}{JWKS_PATH}; "
                  f"AUTH_ISSUER={issuer(ctx.jwks)} AUTH_AUDIENCE={AUDIENCE}")
            for name, case in cases:
                start = time.monotonic()
                try:
                    seen = case(ctx)
                except CaseFailed as exc:
                    failed += 1
                    print(f"FAIL - {name}: {exc}")
                    continue
                except Exception:  # noqa: BLE001 - a broken case is a failure, not a crash
                    failed += 1
                    print(f"FAIL - {name}: {traceback.format_exc().strip()}")
                    continue
                passed += 1
                print(f"ok   - {name}: {seen} [{time.monotonic() - start:.2f} s]")
        finally:
            if ctx is not None:
                ctx.jwks.stop()
    print(f"authorizer_interop: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
