"""A Django project made in a temporary folder as `django-admin startproject` + `startapp` would leave it,
its migrations written by Django's own `makemigrations`, for `dbshift import django` stories."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

MANAGE_PY = """import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_conf.settings")
    try:
        from django.core.management import execute_from_command_line
    except ImportError as exc:
        raise ImportError(
            "Couldn't import Django. Are you sure it's installed and "
            "available on your PYTHONPATH environment variable? Did you "
            "forget to activate a virtual environment?"
        ) from exc
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
"""

SETTINGS = """SECRET_KEY = "test only"
INSTALLED_APPS = ["shop", "blog"]
DATABASES = {{"default": {database!r}}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
"""

#: The shop's models at each step of the story (the first migration of each app comes from step 0).
SHOP_MODELS = [
    """from django.db import models


class Customer(models.Model):
    name = models.CharField(max_length=80)
    email = models.TextField("e mail", db_column="e mail", null=True)
    balance = models.DecimalField(max_digits=9, decimal_places=2, default=0)
""",
    """from django.db import models


class Customer(models.Model):
    name = models.CharField(max_length=80)
    email = models.TextField("e mail", db_column="e mail", null=True)
    balance = models.DecimalField(max_digits=9, decimal_places=2, default=0)
    country = models.CharField(max_length=40, null=True)
""",
    """from django.db import models


class Customer(models.Model):
    name = models.CharField(max_length=80)
    email = models.TextField("e mail", db_column="e mail", null=True)
    balance = models.DecimalField(max_digits=9, decimal_places=2, default=0)
    country = models.CharField(max_length=40, null=True)

    class Meta:
        indexes = [models.Index(fields=["country", "name"], name="shop_customer_country")]
""",
]

BLOG_MODELS = """from django.db import models


class Post(models.Model):
    author = models.ForeignKey("shop.Customer", on_delete=models.CASCADE, related_name="posts")
    title = models.CharField(max_length=200)
    body = models.TextField(default="")
"""

#: A data migration (no SQL for it): Django runs it, `sqlmigrate` cannot write it.
FILL_COUNTRY = """from django.db import migrations


def fill(apps, schema_editor):
    apps.get_model("shop", "Customer").objects.filter(country=None).update(country="nowhere")


class Migration(migrations.Migration):
    dependencies = [("shop", "0002_customer_country")]
    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
"""


def database_settings(url: str) -> dict:
    """Django's DATABASES entry for a dbshift database URL (a SQLite file or a PostgreSQL database)."""
    if url.startswith("sqlite:///"):
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": url.removeprefix("sqlite:///")}
    parts = urlparse(url)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": parts.path.lstrip("/"),
        "USER": parts.username or "postgres",
        "HOST": parts.hostname,
        "PORT": str(parts.port or 5432),
    }


def manage(folder: Path, *args: str) -> str:
    """Run ``python manage.py ARGS`` in the project folder (Django itself)."""
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=folder, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def django_project(folder: Path, url: str) -> Path:
    """A Django project on ``url`` with apps shop and blog (blog's Post points at shop's Customer), its
    migrations made by makemigrations step by step (shop 0001, blog 0001, shop 0002 adds a column, shop
    0003 is a hand-written data migration, shop 0004 adds an index); nothing migrated yet."""
    (folder / "site_conf").mkdir(parents=True)
    (folder / "manage.py").write_text(MANAGE_PY)
    (folder / "site_conf" / "__init__.py").write_text("")
    (folder / "site_conf" / "settings.py").write_text(SETTINGS.format(database=database_settings(url)))
    for app, models in (("shop", SHOP_MODELS[0]), ("blog", BLOG_MODELS)):
        (folder / app / "migrations").mkdir(parents=True)
        (folder / app / "__init__.py").write_text("")
        (folder / app / "migrations" / "__init__.py").write_text("")
        (folder / app / "models.py").write_text(models)
    manage(folder, "makemigrations", "shop", "blog")
    (folder / "shop" / "models.py").write_text(SHOP_MODELS[1])
    manage(folder, "makemigrations", "shop", "--name", "customer_country")
    (folder / "shop" / "migrations" / "0003_fill_country.py").write_text(FILL_COUNTRY)
    (folder / "shop" / "models.py").write_text(SHOP_MODELS[2])
    manage(folder, "makemigrations", "shop", "--name", "country_index")
    return folder


def copy_project(template: Path, folder: Path, url: str) -> Path:
    """The project ``template`` copied to ``folder``, its settings pointing at ``url`` (makemigrations runs once)."""
    shutil.copytree(template, folder, ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "site_conf" / "settings.py").write_text(SETTINGS.format(database=database_settings(url)))
    return folder
