"""Create the database cache table (throttle counters shared by all web
processes), so ``migrate`` alone sets up everything."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


def drop_cache_table(apps, schema_editor):
    schema_editor.execute("DROP TABLE IF EXISTS langlearn_cache")


class Migration(migrations.Migration):
    dependencies = [("adventures", "0001_initial")]

    operations = [migrations.RunPython(create_cache_table, drop_cache_table)]
