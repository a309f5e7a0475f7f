"""The example's own tests: `python manage.py test` (the Jenkinsfile's Test stage)."""

from io import StringIO

from django.core.management import call_command
from django.test import TestCase, override_settings

from articles.models import Article
from conduit.settings import database


class HealthTest(TestCase):
    @override_settings(ALLOWED_HOSTS=["conduit.example.com"])
    def test_healthz_answers_whatever_the_host(self) -> None:
        response = self.client.get("/healthz", HTTP_HOST="10.0.3.17:8000")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.content, b"ok")

    @override_settings(ALLOWED_HOSTS=["conduit.example.com"])
    def test_other_paths_check_the_host(self) -> None:
        self.assertEqual(self.client.get("/api/articles", HTTP_HOST="10.0.3.17:8000").status_code,
                         400)


class ArticlesTest(TestCase):
    def test_articles_newest_first(self) -> None:
        Article.objects.create(slug="first", title="First", body="...")
        Article.objects.create(slug="second", title="Second", body="...")
        document = self.client.get("/api/articles").json()
        self.assertEqual([a["slug"] for a in document["articles"]], ["second", "first"])
        self.assertEqual(document["articlesCount"], 2)

    def test_one_article_and_a_missing_one(self) -> None:
        Article.objects.create(slug="hello", title="Hello", body="World")
        self.assertEqual(self.client.get("/api/articles/hello").json()["article"]["body"],
                         "World")
        self.assertEqual(self.client.get("/api/articles/nope").status_code, 404)


class SettingsTest(TestCase):
    def test_database_urls(self) -> None:
        self.assertEqual(database("sqlite:///db.sqlite3"),
                         {"ENGINE": "django.db.backends.sqlite3", "NAME": "db.sqlite3"})
        self.assertEqual(database("sqlite:////data/app.sqlite3")["NAME"], "/data/app.sqlite3")
        postgres = database("postgres://app:p%40ss@db.internal:6432/conduit")
        self.assertEqual((postgres["ENGINE"], postgres["USER"], postgres["PASSWORD"],
                          postgres["HOST"], postgres["PORT"], postgres["NAME"]),
                         ("django.db.backends.postgresql", "app", "p@ss", "db.internal", "6432",
                          "conduit"))
        with self.assertRaises(ValueError):
            database("mysql://db/conduit")

    def test_the_migrations_match_the_models(self) -> None:
        out = StringIO()
        call_command("makemigrations", "--check", "--dry-run", stdout=out)
        self.assertIn("No changes detected", out.getvalue())
