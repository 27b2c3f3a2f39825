"""The "Staff" group also reads what the digest pipeline wrote (cited items,
sentences, translations, tokens, audio: the digest page's inlines need them)
and may re-run digests in error (the action needs the change permission; every
field of a digest stays read-only)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Staff"
PERMISSIONS = {
    "news": [
        "view_digest",
        "change_digest",
        "view_digestitem",
        "view_digestsentence",
        "view_digesttranslation",
        "view_digesttoken",
        "view_digestaudio",
    ],
}


def grant(apps, schema_editor):
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


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name=GROUP).first()
    if group is None:
        return
    for label, codenames in PERMISSIONS.items():
        # view_digest came with 0002_staff_news_and_vocabulary: it stays.
        codenames = [codename for codename in codenames if codename != "view_digest"]
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label=label, codename__in=codenames)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("operations", "0003_staff_dropped_branches"),
        ("news", "0003_digest_reading"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
