import factory

from crm.accounts.models import Department, Role, User


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"部门{n}")
    parent = factory.LazyFunction(lambda: Department.objects.get(parent__isnull=True))

    @factory.post_generation
    def _path(obj, create, extracted, **kwargs):  # noqa: N805 - factory-boy passes the instance
        obj.path = f"{obj.parent.path if obj.parent else '/'}{obj.pk}/"
        if create:
            obj.save(update_fields=["path"])


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    name = factory.Faker("name", locale="zh_CN")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    department = factory.LazyFunction(lambda: Department.objects.get(parent__isnull=True))
    password = factory.django.Password("demo12345")

    @factory.post_generation
    def roles(obj, create, extracted, **kwargs):  # noqa: N805 - factory-boy passes the instance
        """roles=["sales"] (role codes) or Role objects."""
        if create and extracted:
            obj.roles.set([Role.objects.get(code=r) if isinstance(r, str) else r for r in extracted])


class RoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Role

    name = factory.Sequence(lambda n: f"角色{n}")
    data_scope = Role.DataScope.SELF
    permissions = factory.LazyFunction(list)
