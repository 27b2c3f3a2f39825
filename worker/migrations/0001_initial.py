# The provider budget moved here from ``adventures``: the table is taken over
# as it is (state only), then renamed to this app's name.

import django.contrib.postgres.fields
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("adventures", "0010_provider_budget"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ProviderBudget",
                    fields=[
                        (
                            "provider",
                            models.CharField(max_length=32, primary_key=True, serialize=False),
                        ),
                        (
                            "calls",
                            django.contrib.postgres.fields.ArrayField(
                                base_field=models.DateTimeField(),
                                blank=True,
                                default=list,
                                size=None,
                            ),
                        ),
                        ("blocked_until", models.DateTimeField(blank=True, null=True)),
                    ],
                    options={"db_table": "adventures_providerbudget"},
                ),
            ],
        ),
        migrations.AlterModelTable(name="ProviderBudget", table=None),
    ]
