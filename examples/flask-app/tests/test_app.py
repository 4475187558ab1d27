from app import app


def test_index():
    client = app.test_client()
    assert client.get("/healthz").data == b"ok\n"
