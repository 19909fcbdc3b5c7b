"""A tiny browser-like HTTP session for tests against the live gunicorn: keeps cookies, does
not follow redirects, reads CSRF tokens from pages."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003
        return None


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    text: str


class Session:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect()
        )

    def request(
        self,
        method: str,
        path: str,
        data: dict | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        body = urllib.parse.urlencode(data or {}, doseq=True).encode() if data is not None else None
        request = urllib.request.Request(  # noqa: S310 - loopback test server, http only
            self.base_url + path, data=body, method=method, headers=headers or {}
        )
        try:
            with self.opener.open(request, timeout=60) as response:
                return Reply(response.status, dict(response.headers), response.read().decode())
        except urllib.error.HTTPError as error:
            return Reply(error.code, dict(error.headers), error.read().decode(errors="replace"))

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def csrf(self, path: str = "/") -> str:
        return CSRF_RE.search(self.get(path).text).group(1)

    def post(self, path: str, data: dict | None = None, token: str | None = None) -> Reply:
        return self.request("POST", path, {"csrf_token": token or self.csrf(), **(data or {})})

    def login(self, email: str, password: str) -> None:
        reply = self.post("/login", {"email": email, "password": password}, self.csrf("/login"))
        assert reply.status == 302, reply.status
