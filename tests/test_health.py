def test_healthz_answers_without_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_checks_the_database(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["database"] == "ok"


def test_readyz_reports_an_unreachable_database(tmp_path, instance_dir):
    from tests.conftest import make_app

    app = make_app(f"sqlite:///{tmp_path}/missing/dir/db.sqlite", instance_dir)
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"
