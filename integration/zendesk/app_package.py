"""The Zendesk app (zendesk_app/): check its manifest against the Zendesk Apps Framework v2 rules and zip it for a
private app upload, pointed at this service's address.

The rules are those Zendesk applies on upload (its manifest reference and the zendesk_apps_support validations):
required author and defaultLocale (with its translations file), frameworkVersion "2.0", known locations whose
URLs are https or files under assets/, well-formed parameters, the app icons.
"""
from __future__ import annotations

import io
import json
import re
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

APP_DIR = Path(__file__).resolve().parents[2] / "zendesk_app"
FRAMEWORK_VERSION = "2.0"  # the only version Zendesk accepts for a new app
SUPPORT_LOCATIONS = ("top_bar", "nav_bar", "ticket_sidebar", "new_ticket_sidebar", "user_sidebar",
                     "organization_sidebar", "background", "modal", "ticket_editor", "system_top_bar", "ticket_module")
ICON_LOCATIONS = ("top_bar", "nav_bar", "ticket_editor")  # shown as an icon: assets/icon_<location>.svg
PARAMETER_TYPES = ("text", "password", "checkbox", "url", "number", "multiline", "hidden", "oauth")
SECRET_WORDS = re.compile(r"token|key|pwd|password", re.IGNORECASE)
LOCALE = re.compile(r"^[a-z]{2}(-\w{2,3})?$")
PUBLIC_APP_KEYS = ("name", "short_description", "long_description", "installation_instructions")
LOGOS = {"assets/logo.png": 320, "assets/logo-small.png": 128}
PLACEHOLDER_HOST = "escalator.example.com"
FIXED_TIME = (2026, 1, 1, 0, 0, 0)  # zip entries carry no build time: the same app gives the same bytes


class AppPackageError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("the Zendesk app is not valid:\n  " + "\n  ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class AppFiles:
    """The app as Zendesk sees it: relative path → bytes."""

    files: dict[str, bytes]

    @classmethod
    def read(cls, app_dir: Path = APP_DIR) -> "AppFiles":
        if not (app_dir / "manifest.json").is_file():
            raise AppPackageError([f"no manifest.json in {app_dir}"])
        found = {}
        for path in sorted(app_dir.rglob("*")):
            relative = path.relative_to(app_dir).as_posix()
            if path.is_file() and (relative == "manifest.json" or relative.split("/")[0] in ("assets", "translations")):
                found[relative] = path.read_bytes()
        return cls(found)

    def manifest(self) -> dict:
        return json.loads(self.files["manifest.json"])


def manifest_problems(app: AppFiles) -> list[str]:
    """Every way the app breaks a ZAF v2 rule, in words an admin can act on; empty when Zendesk would accept it."""
    try:
        manifest = app.manifest()
    except (KeyError, ValueError) as error:
        return [f"manifest.json is not JSON: {error}"]
    if not isinstance(manifest, dict):
        return ["manifest.json must hold a JSON object"]
    problems: list[str] = []
    problems += _author(manifest.get("author"))
    problems += _locale(manifest, app)
    problems += _types(manifest)
    if manifest.get("frameworkVersion") != FRAMEWORK_VERSION:
        problems.append(f'frameworkVersion must be "{FRAMEWORK_VERSION}" (got {manifest.get("frameworkVersion")!r})')
    problems += _locations(manifest.get("location"), app)
    problems += _parameters(manifest.get("parameters", []), manifest.get("domainWhitelist") or [])
    problems += _logos(app)
    return problems


def _author(author) -> list[str]:
    if not isinstance(author, dict):
        return ["author is required: an object with name, email and url"]
    problems = [f"author.{key} must be a string" for key in ("name", "email") if not isinstance(author.get(key), str)]
    url = author.get("url")
    if url is not None and (not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https")):
        problems.append("author.url must be an http(s) URL")
    return problems


def _locale(manifest: dict, app: AppFiles) -> list[str]:
    locale = manifest.get("defaultLocale")
    if not isinstance(locale, str):
        return ["defaultLocale is required (e.g. \"en\")"]
    if not LOCALE.match(locale):
        return [f"defaultLocale {locale!r} is not a locale like en or pt-br"]
    path = f"translations/{locale}.json"
    if path not in app.files:
        return [f"{path} is missing (the default locale's translations)"]
    try:
        translations = json.loads(app.files[path])
    except ValueError as error:
        return [f"{path} is not JSON: {error}"]
    keys = set((translations.get("app") or {}) if isinstance(translations, dict) else ())
    wanted = ("name",) if manifest.get("private") is True else PUBLIC_APP_KEYS
    return [f"{path} lacks app.{key}" for key in wanted if key not in keys]


def _types(manifest: dict) -> list[str]:
    problems = [f"{key} must be a string" for key in ("name", "version", "defaultLocale", "frameworkVersion")
                if key in manifest and not isinstance(manifest[key], str)]
    if "private" in manifest and not isinstance(manifest["private"], bool):
        problems.append("private must be true or false")
    whitelist = manifest.get("domainWhitelist")
    if whitelist is not None and not (isinstance(whitelist, list) and all(isinstance(d, str) for d in whitelist)):
        problems.append("domainWhitelist must be an array of strings")
    return problems


def _locations(location, app: AppFiles) -> list[str]:
    if not isinstance(location, dict) or not location:
        return ["location is required: {\"support\": {\"ticket_sidebar\": {\"url\": \"assets/iframe.html\"}}}"]
    problems = [f"location host {host!r} is unknown (this app runs in support)" for host in location
                if host != "support"]
    for name, options in (location.get("support") or {}).items():
        if name not in SUPPORT_LOCATIONS:
            problems.append(f"location support.{name} is not a Zendesk Support location")
            continue
        url = options if isinstance(options, str) else (options or {}).get("url") if isinstance(options, dict) else None
        if not isinstance(url, str) or not url:
            problems.append(f"location support.{name} needs a url")
        elif urlsplit(url).scheme:
            if urlsplit(url).scheme != "https":
                problems.append(f"location support.{name} url must be https or a file under assets/")
        elif not url.startswith("assets/") or url.split("?")[0] not in app.files:
            problems.append(f"location support.{name} url {url!r} is not a file of the app under assets/")
        if isinstance(options, dict) and "flexible" in options and not isinstance(options["flexible"], bool):
            problems.append(f"location support.{name}.flexible must be true or false")
        if name in ICON_LOCATIONS:
            icon = f"assets/icon_{name}.svg"
            if icon not in app.files:
                problems.append(f"{icon} is missing (the {name} icon)")
            elif b"viewBox" not in app.files[icon]:
                problems.append(f"{icon} needs a viewBox attribute")
    return problems


def _parameters(parameters, whitelist: list) -> list[str]:
    if not isinstance(parameters, list):
        return ["parameters must be an array"]
    problems: list[str] = []
    names = [p.get("name") for p in parameters if isinstance(p, dict)]
    problems += [f"parameter {n!r} is declared twice" for n in sorted({n for n in names if names.count(n) > 1})]
    for parameter in parameters:
        if not isinstance(parameter, dict) or not isinstance(parameter.get("name"), str):
            problems.append("each parameter needs a name")
            continue
        name, kind = parameter["name"], parameter.get("type", "text")
        if name == "name":
            problems.append('a parameter may not be called "name"')
        if kind not in PARAMETER_TYPES:
            problems.append(f"parameter {name!r} has unknown type {kind!r}")
        for flag in ("required", "secure"):
            if flag in parameter and not isinstance(parameter[flag], bool):
                problems.append(f"parameter {name!r}: {flag} must be true or false")
        secure = parameter.get("secure") is True
        if kind == "hidden" and parameter.get("required"):
            problems.append(f"hidden parameter {name!r} cannot be required")
        if secure and "default" in parameter:
            problems.append(f"secure parameter {name!r} cannot have a default")
        if secure and kind == "oauth":
            problems.append(f"oauth parameter {name!r} cannot be secure")
        if SECRET_WORDS.search(name) and kind in ("text", "password") and not secure:
            problems.append(f"parameter {name!r} looks like a secret: declare it secure")
        if secure and not whitelist:
            problems.append(f"secure parameter {name!r} is only sent to domains in domainWhitelist, which is empty")
    return problems


def _logos(app: AppFiles) -> list[str]:
    problems = []
    for path, size in LOGOS.items():
        data = app.files.get(path)
        if data is None:
            problems.append(f"{path} is missing ({size}x{size} PNG)")
        elif data[:8] != b"\x89PNG\r\n\x1a\n" or struct.unpack(">II", data[16:24]) != (size, size):
            problems.append(f"{path} must be a {size}x{size} PNG")
    return problems


def for_service(app: AppFiles, public_url: str) -> AppFiles:
    """The app pointed at `public_url`: its host is the only whitelisted domain and the service URL's default."""
    parts = urlsplit(public_url)
    if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
        raise AppPackageError([f"{public_url!r} is not this service's public https address"])
    try:
        manifest = app.manifest()
    except (KeyError, ValueError) as error:
        raise AppPackageError([f"manifest.json is not JSON: {error}"]) from None
    if not isinstance(manifest, dict):
        raise AppPackageError(["manifest.json must hold a JSON object"])
    manifest["domainWhitelist"] = [parts.hostname]
    for parameter in manifest.get("parameters") or []:
        if isinstance(parameter, dict) and parameter.get("name") == "service_url":
            parameter["default"] = public_url.rstrip("/")
    return AppFiles({**app.files, "manifest.json": (json.dumps(manifest, indent=2) + "\n").encode()})


def package(app: AppFiles, public_url: str) -> bytes:
    """The zip Zendesk accepts for a private app upload (manifest.json at the root), or AppPackageError."""
    pointed = for_service(app, public_url)
    problems = manifest_problems(pointed)
    if problems:
        raise AppPackageError(problems)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(pointed.files):
            entry = zipfile.ZipInfo(path, FIXED_TIME)
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, pointed.files[path], zipfile.ZIP_DEFLATED)
    return buffer.getvalue()
