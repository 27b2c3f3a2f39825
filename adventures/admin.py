from django.contrib import admin

from .models import Adventure, Audio, Choice, Decision, Entry, Sentence, Token


class EntryInline(admin.TabularInline):
    model = Entry
    fields = ("position", "status", "is_final", "text", "updated_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    ordering = ("position",)

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Adventure)
class AdventureAdmin(admin.ModelAdmin):
    list_display = (
        "title",
        "user",
        "target_language",
        "native_language",
        "level",
        "status",
        "created_at",
    )
    list_filter = (
        "status",
        "target_language",
        "native_language",
        "level",
        "created_at",
    )
    search_fields = ("id", "title", "theme", "user__username")
    list_select_related = ("user",)
    readonly_fields = ("id", "user", "title", "status", "created_at", "updated_at")
    inlines = [EntryInline]


class SentenceInline(admin.TabularInline):
    model = Sentence
    fields = ("index", "text", "translation")
    readonly_fields = fields
    extra = 0
    can_delete = False


class ChoiceInline(admin.TabularInline):
    model = Choice
    fields = ("index", "text", "translation")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Entry)
class EntryAdmin(admin.ModelAdmin):
    list_display = ("id", "adventure", "position", "status", "updated_at")
    list_filter = ("status", "adventure__target_language", "updated_at")
    search_fields = ("id", "adventure__id", "adventure__user__username", "text")
    list_select_related = ("adventure",)
    readonly_fields = [f.name for f in Entry._meta.fields]
    inlines = [SentenceInline, ChoiceInline]


for model in (Sentence, Choice, Token, Audio, Decision):
    admin.site.register(model)
