"""Two OpenSSL settings Python's ``ssl`` module does not expose, through ctypes.

Python 3.11 cannot choose TLS 1.3 cipher suites (``SSLContext.set_ciphers`` only
covers TLS 1.2 and below) nor the key-exchange groups a side offers or accepts
(``set_ecdh_curve`` takes a single curve and does not order key shares).  The
scenarios need both: a chosen TLS 1.3 suite, and group control to provoke a
HelloRetryRequest (RFC 8446 §4.1.4).

How it works: in CPython, a ``PySSLContext`` is ``PyObject_HEAD`` followed by the
``SSL_CTX *`` pointer, so the pointer sits at ``id(ctx) + object.__basicsize__``.
Before writing anything we check that pointer: ``SSL_CTX_get_options`` on it must
equal ``ctx.options``.  The OpenSSL functions are looked up through the ``_ssl``
extension module's own handle, so they come from the very libssl that ``_ssl`` is
linked against (dlsym on a handle also searches its dependencies).

``key_update`` reaches the ``SSL *`` of an ``SSLObject`` the same way: in
``PySSLSocket`` it follows ``PyObject_HEAD`` and one ``PyObject *``; it is
checked with ``SSL_get_SSL_CTX``, which must return the context's pointer.

All functions raise ``OpenSSLExtError`` (a ``RuntimeError``) when this cannot
work here (another Python implementation, a libssl without the symbol, a context
whose layout does not check out), and ``ValueError`` when OpenSSL rejects the
string.  Call them before ``wrap_bio``/``wrap_socket``.
"""

from __future__ import annotations

import ctypes
import ssl
from functools import lru_cache

__all__ = ["OpenSSLExtError", "set_tls13_ciphersuites", "set_groups", "key_update"]

# SSL_CTX_set1_groups_list is a macro over SSL_CTX_ctrl (openssl/ssl.h).
_SSL_CTRL_SET_GROUPS_LIST = 92


class OpenSSLExtError(RuntimeError):
    """The ctypes route to OpenSSL is not available in this Python."""


@lru_cache(maxsize=1)
def _lib() -> ctypes.CDLL:
    import _ssl

    path = getattr(_ssl, "__file__", None)
    try:
        lib = ctypes.CDLL(path) if path else ctypes.CDLL(None)
    except OSError as exc:
        raise OpenSSLExtError(f"cannot load the _ssl module's libraries through ctypes: {exc}") from None
    try:
        lib.SSL_CTX_get_options.restype = ctypes.c_uint64
        lib.SSL_CTX_get_options.argtypes = [ctypes.c_void_p]
        lib.SSL_CTX_set_ciphersuites.restype = ctypes.c_int
        lib.SSL_CTX_set_ciphersuites.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        lib.SSL_CTX_ctrl.restype = ctypes.c_long
        lib.SSL_CTX_ctrl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_long, ctypes.c_void_p]
        lib.SSL_get_SSL_CTX.restype = ctypes.c_void_p
        lib.SSL_get_SSL_CTX.argtypes = [ctypes.c_void_p]
        lib.SSL_key_update.restype = ctypes.c_int
        lib.SSL_key_update.argtypes = [ctypes.c_void_p, ctypes.c_int]
    except AttributeError as exc:
        raise OpenSSLExtError(
            f"libssl behind Python's ssl module ({ssl.OPENSSL_VERSION}) lacks a needed symbol: {exc}; "
            "TLS 1.3 suites can still be chosen with an OPENSSL_CONF file (Ciphersuites=...) "
            "read at process start") from None
    return lib


def _ssl_ctx_ptr(ctx: ssl.SSLContext) -> int:
    import _ssl

    if not isinstance(ctx, _ssl._SSLContext):
        raise TypeError(f"expected an ssl.SSLContext, got {type(ctx).__name__}")
    if ctypes.sizeof(ctypes.c_void_p) != 8 or object.__basicsize__ != 16:
        raise OpenSSLExtError("unexpected CPython object layout: cannot find the SSL_CTX pointer")
    lib = _lib()
    ptr = ctypes.c_void_p.from_address(id(ctx) + object.__basicsize__).value
    if not ptr or lib.SSL_CTX_get_options(ptr) != ctx.options:
        raise OpenSSLExtError("the SSL_CTX pointer of this SSLContext does not check out "
                              "(SSL_CTX_get_options differs from ctx.options)")
    return ptr


def set_tls13_ciphersuites(ctx: ssl.SSLContext, suites: str) -> None:
    """Set the TLS 1.3 cipher suites a context offers/accepts, in preference order.

    ``suites`` is OpenSSL's colon-separated list of IANA names, e.g.
    ``"TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256"``
    (``SSL_CTX_set_ciphersuites``).  Raises ``ValueError`` if OpenSSL accepts none.
    """
    ptr = _ssl_ctx_ptr(ctx)
    if _lib().SSL_CTX_set_ciphersuites(ptr, suites.encode("ascii")) != 1:
        raise ValueError(f"OpenSSL rejected the TLS 1.3 cipher suite list {suites!r}")


def set_groups(ctx: ssl.SSLContext, groups: str) -> None:
    """Set the key-exchange groups, in preference order (``SSL_CTX_set1_groups_list``).

    ``groups`` is colon-separated, e.g. ``"X25519:P-256"``.  A TLS 1.3 client
    sends a key share for the first group only; a server whose list lacks that
    group answers with a HelloRetryRequest.  Raises ``ValueError`` if OpenSSL
    rejects the list.
    """
    ptr = _ssl_ctx_ptr(ctx)
    buf = ctypes.create_string_buffer(groups.encode("ascii"))
    if _lib().SSL_CTX_ctrl(ptr, _SSL_CTRL_SET_GROUPS_LIST, 0, ctypes.cast(buf, ctypes.c_void_p)) != 1:
        raise ValueError(f"OpenSSL rejected the group list {groups!r}")


def _ssl_ptr(obj: ssl.SSLObject) -> int:
    import _ssl

    inner = getattr(obj, "_sslobj", None)
    if not isinstance(inner, _ssl._SSLSocket):
        raise TypeError(f"expected an ssl.SSLObject, got {type(obj).__name__}")
    ctx_ptr = _ssl_ctx_ptr(obj.context)
    ptr = ctypes.c_void_p.from_address(id(inner) + object.__basicsize__ + ctypes.sizeof(ctypes.c_void_p)).value
    if not ptr or _lib().SSL_get_SSL_CTX(ptr) != ctx_ptr:
        raise OpenSSLExtError("the SSL pointer of this SSLObject does not check out "
                              "(SSL_get_SSL_CTX differs from its context)")
    return ptr


def key_update(obj: ssl.SSLObject, request_peer: bool = False) -> None:
    """Schedule a TLS 1.3 KeyUpdate (RFC 8446 §4.6.3) on a connected SSLObject.

    OpenSSL sends it with the next write (or ``do_handshake()``); from then on
    this side writes under the next traffic secret.  With ``request_peer`` the
    message asks the peer to update its own keys too (``update_requested``).
    Raises ``ValueError`` if OpenSSL refuses (e.g. not TLS 1.3, handshake not done).
    """
    ptr = _ssl_ptr(obj)
    if _lib().SSL_key_update(ptr, 1 if request_peer else 0) != 1:
        raise ValueError("OpenSSL refused SSL_key_update (TLS 1.3 only, after the handshake)")
