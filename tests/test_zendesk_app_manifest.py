"""The Zendesk app in zendesk_app/ against the Zendesk Apps Framework v2 manifest rules, and its packaging."""
import json
import struct
import zipfile

import pytest
from click.testing import CliRunner

from integration.cli import cli
from integration.zendesk.app_package import APP_DIR, AppFiles, AppPackageError, manifest_problems, package

SDK = "https://static.zdassets.com/zendesk_app_framework_sdk/2.0/zaf_sdk.min.js"


def with_manifest(change) -> AppFiles:
    app = AppFiles.read()
    manifest = app.manifest()
    change(manifest)
    return AppFiles({**app.files, "manifest.json": json.dumps(manifest).encode()})


def test_the_shipped_app_follows_the_zaf_v2_rules():
    app = AppFiles.read()
    assert manifest_problems(app) == []
    manifest = app.manifest()
    assert manifest["frameworkVersion"] == "2.0" and manifest["private"] is True and manifest["defaultLocale"] == "en"
    assert set(manifest["author"]) == {"name", "email", "url"}
    support = manifest["location"]["support"]
    assert support["ticket_sidebar"] == {"url": "assets/iframe.html", "flexible": True}
    assert support["nav_bar"]["url"] == "assets/queue.html"
    parameters = {p["name"]: p for p in manifest["parameters"]}
    assert set(parameters) == {"service_url", "api_token"}
    assert parameters["api_token"]["secure"] is True and "default" not in parameters["api_token"]
    assert parameters["api_token"]["scopes"] == ["header"] and parameters["service_url"]["type"] == "url"
    translations = json.loads(app.files["translations/en.json"])["app"]
    assert {"name", "short_description", "long_description", "installation_instructions"} <= set(translations)
    assert set(translations["parameters"]) == {"service_url", "api_token"}
    for page in ("assets/iframe.html", "assets/queue.html"):
        assert f'<script src="{SDK}"></script>' in app.files[page].decode()  # the SDK Zendesk documents
    for path, size in (("assets/logo.png", 320), ("assets/logo-small.png", 128)):
        assert struct.unpack(">II", app.files[path][16:24]) == (size, size)


def test_the_app_sends_the_token_only_as_a_secure_setting():
    common = (APP_DIR / "assets" / "common.js").read_text()
    assert "Authorization: 'Bearer {{setting.api_token}}'" in common and "secure: true" in common
    for script in ("common.js", "sidebar.js", "queue.js"):
        source = (APP_DIR / "assets" / script).read_text()
        assert "innerHTML" not in source  # every value is set as text
        assert "settings.api_token" not in source  # never read into the page


@pytest.mark.parametrize("change, problem", [
    (lambda m: m.pop("author"), "author is required"),
    (lambda m: m.pop("defaultLocale"), "defaultLocale is required"),
    (lambda m: m.update(defaultLocale="fr"), "translations/fr.json is missing"),
    (lambda m: m.update(frameworkVersion="1.0"), 'frameworkVersion must be "2.0"'),
    (lambda m: m.pop("frameworkVersion"), 'frameworkVersion must be "2.0"'),
    (lambda m: m.update(location={}), "location is required"),
    (lambda m: m["location"]["support"].update(ticket_sidbar={"url": "assets/iframe.html"}),
     "support.ticket_sidbar is not a Zendesk Support location"),
    (lambda m: m["location"]["support"]["ticket_sidebar"].update(url="assets/missing.html"), "not a file of the app"),
    (lambda m: m["location"]["support"]["ticket_sidebar"].update(url="http://example.com/app"), "must be https"),
    (lambda m: m["location"]["support"]["ticket_sidebar"].update(flexible="yes"), "flexible must be true or false"),
    (lambda m: m["parameters"][1].pop("secure"), "'api_token' looks like a secret: declare it secure"),
    (lambda m: m["parameters"][1].update(default="abc"), "secure parameter 'api_token' cannot have a default"),
    (lambda m: m["parameters"].append({"name": "service_url", "type": "url"}), "declared twice"),
    (lambda m: m["parameters"].append({"name": "name", "type": "text"}), 'may not be called "name"'),
    (lambda m: m["parameters"].append({"name": "x", "type": "colour"}), "unknown type 'colour'"),
    (lambda m: m["parameters"].append({"name": "x", "type": "hidden", "required": True}), "cannot be required"),
    (lambda m: m["parameters"][0].update(required="yes"), "required must be true or false"),
    (lambda m: m.update(domainWhitelist=[]), "only sent to domains in domainWhitelist"),
    (lambda m: m.update(private="true"), "private must be true or false"),
])
def test_each_rule_catches_its_mistake(change, problem):
    problems = manifest_problems(with_manifest(change))
    assert any(problem in p for p in problems), problems


def test_missing_icons_and_translations_are_caught():
    app = AppFiles.read()
    for path, problem in (("assets/logo.png", "assets/logo.png is missing"),
                          ("assets/icon_nav_bar.svg", "assets/icon_nav_bar.svg is missing"),
                          ("translations/en.json", "translations/en.json is missing")):
        files = {k: v for k, v in app.files.items() if k != path}
        assert any(problem in p for p in manifest_problems(AppFiles(files))), path
    wrong_size = {**app.files, "assets/logo-small.png": app.files["assets/logo.png"]}
    assert "assets/logo-small.png must be a 128x128 PNG" in manifest_problems(AppFiles(wrong_size))
    public = with_manifest(lambda m: m.update(private=False))
    public.files["translations/en.json"] = json.dumps({"app": {"name": "Escalator SLA"}}).encode()
    assert "translations/en.json lacks app.short_description" in manifest_problems(public)


def test_package_writes_the_private_app_zip_pointed_at_this_service(tmp_path):
    out = tmp_path / "app.zip"
    result = CliRunner().invoke(cli, ["zendesk", "app", "package", "--url", "https://sla.acme.example/",
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Upload private app" in result.output and "escalator api-token create" in result.output
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        manifest = json.loads(archive.read("manifest.json"))  # at the zip's root, as Zendesk requires
        packaged = AppFiles({name: archive.read(name) for name in names})
    assert "assets/iframe.html" in names and "translations/en.json" in names
    assert not [n for n in names if not (n == "manifest.json" or n.startswith(("assets/", "translations/")))]
    assert manifest["domainWhitelist"] == ["sla.acme.example"]
    assert {p["name"]: p.get("default") for p in manifest["parameters"]}["service_url"] == "https://sla.acme.example"
    assert manifest_problems(packaged) == []
    assert package(AppFiles.read(), "https://sla.acme.example") == package(AppFiles.read(), "https://sla.acme.example")


def test_package_refuses_a_bad_address_or_a_broken_app(tmp_path):
    runner = CliRunner()
    for url in ("http://sla.acme.example", "sla.acme.example", "https://sla.acme.example/?x=1"):
        result = runner.invoke(cli, ["zendesk", "app", "package", "--url", url, "--out", str(tmp_path / "a.zip")])
        assert result.exit_code == 1 and "public https address" in result.output, url
    assert not (tmp_path / "a.zip").exists()
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "manifest.json").write_text(json.dumps({"name": "x", "frameworkVersion": "2.0"}))
    result = runner.invoke(cli, ["zendesk", "app", "package", "--url", "https://a.example", "--app-dir", str(broken),
                                 "--out", str(tmp_path / "b.zip")])
    assert result.exit_code == 1 and "author is required" in result.output and "location is required" in result.output
    with pytest.raises(AppPackageError):
        package(AppFiles({"manifest.json": b"{"}), "https://a.example")
    assert not (tmp_path / "b.zip").exists()  # the zip is built in memory: nothing is written for a refused app
