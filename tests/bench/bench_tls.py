"""A throwaway certificate authority for the bench index, made with the ``openssl`` binary.

``make_certificates(folder)`` writes a new CA (ECDSA P-256, valid two days) and a server
certificate it signed for ``127.0.0.1`` and ``localhost``, with the extensions strict
verifiers (rustls/webpki, Python 3.13's ``VERIFY_X509_STRICT``) insist on. The bundle
handed to the clients is the machine's CA bundle with the throwaway CA appended, so that
every tool loads a full trust store, as it does against a real index.
"""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path

HOSTS = ("127.0.0.1", "localhost")

_SERVER_EXTENSIONS = """\
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
subjectAltName = {names}
"""


@dataclass(frozen=True)
class Certificates:
    ca: Path  # the throwaway CA alone
    bundle: Path  # what the clients trust: the machine's bundle plus the CA
    cert: Path  # the server's certificate
    key: Path  # and its key


def system_bundle() -> Path | None:
    """The CA bundle this machine's OpenSSL (and so Python) trusts, when it is one file."""
    paths = ssl.get_default_verify_paths()
    for candidate in (os.environ.get("SSL_CERT_FILE"), paths.cafile, paths.openssl_cafile):
        if candidate and Path(candidate).is_file():
            return Path(candidate).resolve()
    return None


def _openssl(*args: str) -> None:
    done = subprocess.run(["openssl", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"openssl {args[0]} failed: {done.stderr.strip()}")


def make_certificates(folder: Path) -> Certificates:
    if shutil.which("openssl") is None:
        raise RuntimeError("the bench index needs the openssl binary to make its certificates")
    folder.mkdir(parents=True, exist_ok=True)
    ca, ca_key = folder / "ca.pem", folder / "ca.key"
    cert, key, csr = folder / "server.pem", folder / "server.key", folder / "server.csr"
    extensions = folder / "server.ext"
    curve = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes")
    _openssl(
        "req", "-x509", *curve, "-keyout", str(ca_key), "-out", str(ca), "-days", "2",
        "-subj", "/CN=hashpin bench throwaway CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip
    _openssl("req", *curve, "-keyout", str(key), "-out", str(csr), "-subj", "/CN=localhost")
    names = ", ".join(("IP:" if host[0].isdigit() else "DNS:") + host for host in HOSTS)
    extensions.write_text(_SERVER_EXTENSIONS.format(names=names), encoding="ascii")
    _openssl(
        "x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
        "-CAcreateserial", "-days", "2", "-extfile", str(extensions), "-out", str(cert),
    )  # fmt: skip
    bundle = folder / "bundle.pem"
    system = system_bundle()
    system_text = system.read_text(encoding="ascii", errors="replace") if system else ""
    bundle.write_text(
        system_text.rstrip("\n") + "\n" + ca.read_text(encoding="ascii"), encoding="ascii"
    )
    return Certificates(ca=ca, bundle=bundle, cert=cert, key=key)


def server_context(certificates: Certificates) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(certificates.cert, certificates.key)
    context.set_alpn_protocols(["http/1.1"])  # the index speaks HTTP/1.1 only
    return context
