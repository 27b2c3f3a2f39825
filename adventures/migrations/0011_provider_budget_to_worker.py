# The provider budget belongs to the worker's toolkit now (``worker`` takes the
# table over in its first migration): forgotten here, the table kept.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("adventures", "0010_provider_budget"),
        ("worker", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="ProviderBudget")],
        ),
    ]
