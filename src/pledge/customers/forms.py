"""Form fields for customer records, shared by the portal and the agent workspace."""

from __future__ import annotations

from django import forms

from pledge.customers.models import Asset


class AssetChoiceField(forms.ModelChoiceField[Asset]):
    """An asset labelled by model, serial number and site."""

    def label_from_instance(self, obj: Asset) -> str:
        parts = [obj.model, obj.serial_number]
        if obj.site:
            parts.append(obj.site)
        return " · ".join(parts)
