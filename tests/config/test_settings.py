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


def test_every_setting_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    missing = [name for name, _, _ in ENV_VARS if f"`{name}`" not in readme]
    assert not missing, f"document these in README.md: {missing}"


def test_redact_hides_secrets_and_a_url_password_on_its_own():
    settings = load_settings({"REDIS_URL": "redis://:s3cretpass@127.0.0.1:6379/0", "X_BEARER_TOKEN": "AAAAtoken"})
    line = "connect redis://:s3cretpass@127.0.0.1:6379/0 with s3cretpass and Bearer AAAAtoken"
    clean = redact(line, settings)
    assert "s3cretpass" not in clean and "AAAAtoken" not in clean and "127.0.0.1" not in clean
