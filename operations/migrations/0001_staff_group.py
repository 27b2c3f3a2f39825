"""The "Staff" group: what ``create_learner --staff`` grants.

Staff browse everything the pipeline wrote and the job queue, and may re-run
entries in error (the entry admin's action needs the change permission; every
field of an entry stays read-only). Superusers need no group.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Staff"
PERMISSIONS = {
    "accounts": ["view_user"],
    "adventures": [
        "view_adventure",
        "view_entry",
        "change_entry",
        "view_sentence",
        "view_choice",
        "view_token",
        "view_audio",
        "view_decision",
    ],
    "procrastinate": [
        "view_procrastinatejob",
        "view_procrastinateevent",
        "view_procrastinateworker",
    ],
}


def create_staff_group(apps, schema_editor):
    # Permissions are otherwise created after the last migration (post_migrate);
    # on a fresh database they must exist now.
    for label in PERMISSIONS:
        config = apps.get_app_config(label)
        config.models_module = True  # create_permissions skips apps without models
        create_permissions(config, verbosity=0, apps=apps)
        config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    for label, codenames in PERMISSIONS.items():
        found = Permission.objects.filter(content_type__app_label=label, codename__in=codenames)
        missing = set(codenames) - set(found.values_list("codename", flat=True))
        assert not missing, f"no such permissions in {label}: {missing}"
        group.permissions.add(*found)


def remove_staff_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("accounts", "0002_username_rules_token_version"),
        ("adventures", "0003_entry_audio_seconds"),
        ("procrastinate", "0041_post_retry_failed_job"),
    ]

    operations = [migrations.RunPython(create_staff_group, remove_staff_group)]
