"""Throwaway certificates for the live pair: a demo CA and a server leaf.

Everything is made fresh for each session with EC P-256 keys (fast: a TLS 1.3
session costs ~10 ms with EC, ~100 ms with RSA-2048).  ``load_cert_chain`` only
takes file paths, so the private key is written to a 0600 file inside a 0700
temporary folder and deleted as soon as OpenSSL has read it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
import tempfile
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DAY = dt.timedelta(days=1)


@dataclass
class Identity:
    """A certificate chain and its private key, in PEM."""

    cert_pem: str
    key_pem: str
    chain_pem: str = ""  # intermediates, if any

    def load_into(self, ctx: ssl.SSLContext) -> None:
        """Give ``ctx`` this identity without leaving the key on disk."""
        with tempfile.TemporaryDirectory(prefix="wssviz-") as folder:
            os.chmod(folder, 0o700)
            path = os.path.join(folder, "identity.pem")
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                with os.fdopen(fd, "w") as f:
                    f.write(self.key_pem + self.cert_pem + self.chain_pem)
                ctx.load_cert_chain(path)
            finally:
                if os.path.exists(path):
                    os.unlink(path)


def _name(common_name: str, org: str = "wssviz demo") -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _key_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _cert_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


@dataclass
class CA:
    name: str
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate
    replaced: str = ""  # a kept CA key others could read, not reused (load_or_create): its path and mode

    @property
    def cert_pem(self) -> str:
        return _cert_pem(self.cert)

    @classmethod
    def load_or_create(cls, folder: str, stem: str, name: str, *, days: int = 365) -> "CA":
        """A CA kept in ``folder`` (``stem.pem`` and a 0600 ``stem.key``), so that a
        browser told to trust it once keeps trusting it (as mkcert does); made anew
        when missing, unreadable, not a CA, or within a day of expiring, and also when
        its key could be read by anyone else (not 0600, or not the user's own): such a
        key may have been copied, so it is never reused (``replaced`` says why)."""
        cert_path, key_path = os.path.join(folder, f"{stem}.pem"), os.path.join(folder, f"{stem}.key")
        now = dt.datetime.now(dt.timezone.utc)
        replaced = ""
        try:
            st = os.stat(key_path)
            if st.st_mode & 0o077 or st.st_uid != os.getuid():
                replaced = f"{key_path} (mode {st.st_mode & 0o777:04o})"
                raise ValueError(replaced)
            with open(cert_path, "rb") as f:
                cert = x509.load_pem_x509_certificate(f.read())
            with open(key_path, "rb") as f:
                key = serialization.load_pem_private_key(f.read(), password=None)
            usable = (isinstance(key, ec.EllipticCurvePrivateKey)
                      and key.public_key() == cert.public_key()
                      and cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
                      and cert.not_valid_after_utc > now + DAY)
            if usable:
                return cls(name, key, cert)
        except (OSError, ValueError, TypeError, x509.ExtensionNotFound):
            pass
        ca = cls.create(name, now=now, days=days)
        ca.replaced = replaced
        os.makedirs(folder, mode=0o700, exist_ok=True)
        fd = os.open(f"{key_path}.{os.getpid()}.tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(_key_pem(ca.key))
        os.replace(f"{key_path}.{os.getpid()}.tmp", key_path)
        with open(f"{cert_path}.{os.getpid()}.tmp", "w", encoding="ascii") as f:
            f.write(ca.cert_pem)
        os.replace(f"{cert_path}.{os.getpid()}.tmp", cert_path)
        return ca

    @classmethod
    def create(cls, name: str = "wssviz Demo CA", *, now: dt.datetime | None = None,
               days: int = 30) -> "CA":
        now = now or dt.datetime.now(dt.timezone.utc)
        key = ec.generate_private_key(ec.SECP256R1())
        subject = _name(name)
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject).issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - DAY).not_valid_after(now + days * DAY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        return cls(name, key, cert)

    def issue(self, hostnames: list[str], *, now: dt.datetime | None = None,
              not_before: dt.datetime | None = None, not_after: dt.datetime | None = None,
              client: bool = False) -> Identity:
        """A leaf for ``hostnames`` (DNS names or IP addresses), signed by this CA."""
        now = now or dt.datetime.now(dt.timezone.utc)
        key = ec.generate_private_key(ec.SECP256R1())
        sans: list[x509.GeneralName] = []
        for h in hostnames:
            try:
                sans.append(x509.IPAddress(ipaddress.ip_address(h)))
            except ValueError:
                sans.append(x509.DNSName(h))
        usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(hostnames[0] if hostnames else "client"))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before or now - DAY)
            .not_valid_after(not_after or now + 7 * DAY)
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                           critical=False)
            .sign(self.key, hashes.SHA256())
        )
        return Identity(_cert_pem(cert), _key_pem(key))


def read_pem_file(path: str) -> list[str]:
    """The PEM certificates in a file, each as its own string."""
    with open(path, encoding="ascii", errors="replace") as f:
        text = f.read()
    end = "-----END CERTIFICATE-----"
    out = []
    for block in text.split(end)[:-1]:
        start = block.find("-----BEGIN CERTIFICATE-----")
        if start >= 0:
            out.append(block[start:] + end + "\n")
    return out
