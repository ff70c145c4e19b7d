"""Admin for organisations, contacts, contracts and assets."""

from django.contrib import admin

from pledge.customers.models import Asset, Contact, Contract, Organisation


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    fields = ("name", "email", "phone", "job_title", "user", "is_active")
    autocomplete_fields = ("user",)


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "tier", "industry", "region", "is_active")
    list_filter = ("tier", "industry", "is_active")
    search_fields = ("name", "region")
    inlines = [ContactInline]


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("name", "organisation", "email", "phone", "user", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "email", "organisation__name")
    autocomplete_fields = ("organisation", "user")


@admin.register(Asset)
class AssetAdmin(admin.ModelAdmin):
    list_display = ("serial_number", "model", "organisation", "site", "install_date", "warranty_end")
    search_fields = ("serial_number", "model", "organisation__name", "site")
    list_filter = ("model",)
    autocomplete_fields = ("organisation",)


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    list_display = ("number", "organisation", "tier", "start_date", "end_date")
    list_filter = ("tier",)
    search_fields = ("number", "organisation__name")
    autocomplete_fields = ("organisation",)
    filter_horizontal = ("assets",)
