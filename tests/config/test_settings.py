"""Event files and environment settings: a bad value names its field."""

import pytest

from config.settings import ENV_VARS, ROOT, ConfigError, load_event, load_settings, redact


def test_demo_event_loads():
    event = load_event(ROOT / "config" / "superbowl.yaml")
    assert event.brand.name == "Oreo" and event.sources.simulator.enabled


@pytest.mark.parametrize(
    "yaml_text, field",
    [
        ("id: x\nname: y\n", "'brand'"),
        ("id: Bad Id\nname: y\nbrand: {name: B, keywords: [b]}\n", "'id'"),
        (
            "id: x\nname: y\nbrand: {name: B, keywords: [b]}\nsources: {simulator: {rate: 0}}\n",
            "'sources.simulator.rate'",
        ),
        ("id: x\nname: y\nbrand: {name: B, keywords: [b]}\nthresholds: {feed_size: many}\n", "'thresholds.feed_size'"),
        ("id: x\nname: y\nbrand: {name: B, keywords: [b]}\ntypo_field: 1\n", "'typo_field'"),
        ("id: x\nname: y\nbrand: {name: B, keywords: [b]}\ncompetitors: [{name: B, keywords: [c]}]\n", "unique"),
    ],
)
def test_invalid_event_file_names_the_field(tmp_path, yaml_text, field):
    path = tmp_path / "event.yaml"
    path.write_text(yaml_text)
    with pytest.raises(ConfigError) as err:
        load_event(path)
    assert field in str(err.value) and str(path) in str(err.value)


def test_not_yaml_and_missing_file_are_clear(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("brand: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_event(bad)
    with pytest.raises(ConfigError, match="not found"):
        load_event(tmp_path / "nope.yaml")


def test_bad_environment_names_the_variable():
    with pytest.raises(ConfigError, match="PORT"):
        load_settings({"PORT": "eighty"})
    with pytest.raises(ConfigError, match="WARROOM_WEB_PROCESSES"):
        load_settings({"WARROOM_WEB_PROCESSES": "0"})
    assert load_settings({}).web_processes == 1 and load_settings({"WARROOM_WEB_PROCESSES": "3"}).web_processes == 3


def test_every_setting_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    missing = [name for name, _, _ in ENV_VARS if f"`{name}`" not in readme]
    assert not missing, f"document these in README.md: {missing}"


def test_redact_hides_secrets_and_a_url_password_on_its_own():
    settings = load_settings({"REDIS_URL": "redis://:s3cretpass@127.0.0.1:6379/0", "X_BEARER_TOKEN": "AAAAtoken"})
    line = "connect redis://:s3cretpass@127.0.0.1:6379/0 with s3cretpass and Bearer AAAAtoken"
    clean = redact(line, settings)
    assert "s3cretpass" not in clean and "AAAAtoken" not in clean and "127.0.0.1" not in clean


def event_with_hook_env(tmp_path, name: str):
    text = (ROOT / "config" / "superbowl.yaml").read_text()
    path = tmp_path / "event.yaml"
    path.write_text(text.replace("webhook_url_env: WARROOM_ALERT_WEBHOOK_URL", f"webhook_url_env: {name}"))
    return path


def test_the_event_file_names_its_own_webhook_variable(tmp_path):
    url = "https://hooks.example.com/services/T1/B2/s3cret"
    settings = load_settings({"WARROOM_EVENT": str(event_with_hook_env(tmp_path, "ROOM_HOOK")), "ROOM_HOOK": url})
    assert settings.alert_webhook == ("ROOM_HOOK", url)
    assert "s3cret" not in redact(f"posting to {url}", settings), "the custom variable is a secret too"


def test_the_default_webhook_variable_still_works_when_the_event_names_another(tmp_path):
    url = "https://hooks.example.com/services/T1/B2/other"
    env = {"WARROOM_EVENT": str(event_with_hook_env(tmp_path, "ROOM_HOOK")), "WARROOM_ALERT_WEBHOOK_URL": url}
    assert load_settings(env).alert_webhook_url == url


@pytest.mark.parametrize(
    "url",
    [
        "hooks.slack.com/services/T/B/X",
        "ftp://hooks.example.com/x",
        "https:///path-only",
        "https://host:port/x",
        "http://a b/c",
    ],
)
def test_a_malformed_webhook_url_stops_loading_with_one_line_naming_the_variable(url):
    with pytest.raises(ConfigError) as err:
        load_settings({"WARROOM_ALERT_WEBHOOK_URL": url})
    message = str(err.value)
    assert "WARROOM_ALERT_WEBHOOK_URL" in message and url not in message and "\n" not in message
