"""A participation project; project managers are assigned per project."""

from tortoise import fields
from tortoise.models import Model


class Project(Model):
    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=200)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "projects"
