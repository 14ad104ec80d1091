"""Demo data: a company, its departments and groups, and one user per role. Safe to run again.

Later modules extend this command with their own demo records. The demo password is for
trying the product only.
"""

from importlib import import_module

from django.core.management.base import BaseCommand
from django.db import transaction

from crm.accounts.models import Department, Role, Team, User
from crm.accounts.services import department_ensure_root

DEMO_PASSWORD = "demo12345"  # noqa: S105 - documented demo-only password

# (name, parent name); the root 办公室 already exists
DEPARTMENTS = [
    ("总经理办公室", "办公室"),
    ("销售中心", "办公室"),
    ("华南销售部", "销售中心"),
    ("深圳销售组", "华南销售部"),
    ("华东销售部", "销售中心"),
    ("财务部", "办公室"),
    ("客户服务部", "办公室"),
]
USERS = [
    # username, name, department, manager, role code, position, e-mail
    ("admin", "系统管理员", "办公室", None, "super_admin", "IT 管理员", "admin@example.com"),
    ("manager", "王经理", "销售中心", None, "sales_manager", "销售总监", "manager@example.com"),
    ("sales1", "李娜", "华南销售部", "manager", "sales", "销售代表", "sales1@example.com"),
    ("sales2", "张伟", "华东销售部", "manager", "sales", "销售代表", "sales2@example.com"),
    ("finance", "陈会计", "财务部", None, "finance", "会计", "finance@example.com"),
    ("service", "刘客服", "客户服务部", None, "service", "客服专员", "service@example.com"),
]
TEAMS = [("大客户组", "华南销售部", "sales1"), ("渠道组", "华东销售部", "sales2")]


class Command(BaseCommand):
    help = "Load demo departments, groups and users (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the database already has users (first start only).",
        )

    @transaction.atomic
    def handle(self, *args, **options):
        if options["if_empty"] and User.objects.exists():
            self.stdout.write("Users exist already; demo data not loaded.")
            return
        root = department_ensure_root()
        departments = {root.name: root}
        for name, parent_name in DEPARTMENTS:
            parent = departments[parent_name]
            dept = Department.objects.filter(name=name, parent=parent).first()
            if dept is None:
                dept = Department.objects.create(name=name, parent=parent)
                dept.path = f"{parent.path}{dept.pk}/"
                dept.save(update_fields=["path"])
            departments[name] = dept
        created = 0
        for username, name, dept, manager, role_code, position, email in USERS:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User(
                    username=username,
                    name=name,
                    department=departments[dept],
                    position=position,
                    email=email,
                    manager=User.objects.filter(username=manager).first() if manager else None,
                )
                user.set_password(DEMO_PASSWORD)
                user.save()
                user.roles.set(Role.objects.filter(code=role_code))
                created += 1
        for team_name, dept, member in TEAMS:
            team, _new = Team.objects.get_or_create(name=team_name, department=departments[dept])
            team.members.add(User.objects.get(username=member))
            if team.leader_id is None:
                team.leader = User.objects.get(username=member)
                team.save(update_fields=["leader"])
        from crm.customers.demo import seed_customers

        customers = seed_customers()
        from crm.leads.demo import seed_leads

        seed_leads()
        from crm.products.demo import seed_products

        seed_products()
        from crm.opportunities.demo import seed_opportunities

        seed_opportunities()
        from crm.quotes.demo import seed_quotes

        seed_quotes()
        # Contracts in every approval state, then their plans, receivables, invoices and points.
        for module in ("contracts", "receivables", "invoices", "points"):
            import_module(f"crm.{module}.demo").seed()
        self.stdout.write(
            self.style.SUCCESS(f"Demo data ready ({created} users, {customers} customers created).")
        )
