"""The live pair's certificates and TLS contexts, made from a scenario's settings.

``PairTLS`` creates the certificate authorities the scenario names (the demo CA,
an unknown one, an attacker's), issues the server's certificate (its names and
validity from the settings) and, for mutual TLS, the client's, and configures both
``SSLContext``s: versions, suites, groups, tickets, the trust store and the key log
both write to.  Made once per session, at the first TLS move (keys and
certificates cost tens of milliseconds, not part of protocol time).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from wssviz import lazy
from wssviz.live.settings import Settings

ssl = lazy.module("ssl")
openssl_ext = lazy.module("wssviz.live.openssl_ext")

if TYPE_CHECKING:
    from wssviz.live.certs import CA

CA_NAMES = {
    "demo-ca": "wssviz Demo CA",
    "unknown-ca": "Unknown CA (in no trust store)",
    "attacker-ca": "Interception CA (the attacker's)",
}


class PairTLS:
    """Both contexts of the pair; ``trust`` is the PEM of every CA the client trusts."""

    def __init__(self, s: Settings, now: dt.datetime, keylog_path: str) -> None:
        self.cas: dict[str, "CA"] = {}
        day = dt.timedelta(days=1)
        issuer = self._ca(s.cert_issuer, now)
        identity = issuer.issue(s.cert_hosts or [s.host], now=now,
                                not_before=now + s.cert_valid_days[0] * day,
                                not_after=now + s.cert_valid_days[1] * day)
        trusted = [self._ca(name, now) for name in s.client_trust]
        self.trust = [ca.cert_pem for ca in trusted]
        version = ssl.TLSVersion.TLSv1_3 if s.tls_version == "1.3" else ssl.TLSVersion.TLSv1_2
        sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        sctx.minimum_version = sctx.maximum_version = version
        sctx.num_tickets = s.num_tickets
        sctx.keylog_filename = keylog_path
        identity.load_into(sctx)
        cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        cctx.minimum_version = ssl.TLSVersion.TLSv1_2
        cctx.maximum_version = version
        for ca in trusted:
            cctx.load_verify_locations(cadata=ca.cert_pem)
        cctx.keylog_filename = keylog_path
        if s.client_cert:
            demo = self._ca("demo-ca", now)
            sctx.verify_mode = ssl.CERT_REQUIRED
            sctx.load_verify_locations(cadata=demo.cert_pem)
            demo.issue(["client.example.com"], now=now, client=True).load_into(cctx)
        for ctx in (sctx, cctx):
            if s.tls13_suites:
                openssl_ext.set_tls13_ciphersuites(ctx, s.tls13_suites)
            if s.tls12_ciphers:
                ctx.set_ciphers(s.tls12_ciphers)
        if s.client_groups:
            openssl_ext.set_groups(cctx, s.client_groups)
        if s.server_groups:
            openssl_ext.set_groups(sctx, s.server_groups)
        self.client, self.server = cctx, sctx

    def _ca(self, name: str, now: dt.datetime) -> "CA":
        from wssviz.live.certs import CA  # cryptography loads here, after the TCP step

        if name not in self.cas:
            self.cas[name] = CA.create(CA_NAMES[name], now=now)
        return self.cas[name]
