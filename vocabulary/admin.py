"""Learners' words, reviews and placements in the admin: for staff to look at, never to edit.

Deleting stays allowed, so that deleting a learner (which removes their words
with them) is not refused for lack of permission on their words.
"""

from __future__ import annotations

from django.contrib import admin

from .models import Placement, Review, Word


@admin.register(Word)
class WordAdmin(admin.ModelAdmin):
    list_display = ("lemma", "language", "status", "user", "entry", "created_at", "updated_at")
    list_filter = ("status", "language", "created_at")
    search_fields = ("lemma", "sentence", "translation", "user__username", "id")
    list_select_related = ("user", "entry")
    date_hierarchy = "created_at"
    readonly_fields = (
        "id",
        "user",
        "language",
        "lemma",
        "status",
        "sentence",
        "translation",
        "entry",
        "created_at",
        "updated_at",
    )
    fields = readonly_fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ("word", "rating", "reviewed_at", "due", "user")
    list_filter = ("rating", "reviewed_at")
    search_fields = ("word__lemma", "user__username", "review_id")
    list_select_related = ("user", "word")
    date_hierarchy = "reviewed_at"
    readonly_fields = (
        "id",
        "user",
        "word",
        "card",
        "review_id",
        "rating",
        "reviewed_at",
        "due",
        "card_before",
        "card_after",
    )
    fields = readonly_fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Placement)
class PlacementAdmin(admin.ModelAdmin):
    list_display = (
        "user",
        "language",
        "level",
        "vocabulary_size",
        "hits",
        "real_words",
        "false_alarms",
        "pseudo_words",
        "answered_at",
    )
    list_filter = ("language", "level", "answered_at")
    search_fields = ("user__username",)
    list_select_related = ("user",)
    date_hierarchy = "answered_at"
    readonly_fields = (
        "id",
        "user",
        "language",
        "vocabulary_size",
        "level",
        "hits",
        "real_words",
        "false_alarms",
        "pseudo_words",
        "bands",
        "answers",
        "answered_at",
    )
    fields = readonly_fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
