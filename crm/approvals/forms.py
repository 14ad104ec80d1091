"""Forms of the approval pages: a flow with its ordered steps (a formset), and a decision."""

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.accounts.models import Role, User
from crm.approvals.models import ApprovalFlow, ApprovalStep


class FlowForm(forms.Form):
    name = forms.CharField(label=_("审批流名称"), max_length=100)
    kind = forms.ChoiceField(label=_("适用单据"), choices=())
    description = forms.CharField(label=_("说明"), max_length=255, required=False)
    priority = forms.IntegerField(
        label=_("优先级"),
        initial=0,
        min_value=-1000,
        max_value=1000,
        help_text=ApprovalFlow._meta.get_field("priority").help_text,
    )
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)

    def __init__(self, *args, kinds=(), flow: ApprovalFlow | None = None, **kwargs):
        if flow is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": flow.name,
                    "kind": flow.kind,
                    "description": flow.description,
                    "priority": flow.priority,
                    "is_active": flow.is_active,
                },
            )
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = list(kinds)


class StepForm(forms.Form):
    name = forms.CharField(label=_("步骤名称"), max_length=64, required=False)
    approver_type = forms.ChoiceField(
        label=_("审批人类型"),
        choices=ApprovalStep.ApproverType.choices,
        initial=ApprovalStep.ApproverType.USER,
    )
    approver_user = forms.ModelChoiceField(
        label=_("审批员工"), queryset=User.objects.filter(is_active=True).order_by("pk"), required=False
    )
    approver_role = forms.ModelChoiceField(
        label=_("审批角色"), queryset=Role.objects.order_by("pk"), required=False
    )
    mode = forms.ChoiceField(
        label=_("审批方式"), choices=ApprovalStep.Mode.choices, initial=ApprovalStep.Mode.ANY
    )
    min_amount = forms.DecimalField(label=_("金额不低于"), max_digits=14, decimal_places=2, required=False)
    max_amount = forms.DecimalField(label=_("金额低于"), max_digits=14, decimal_places=2, required=False)
    doc_types = forms.CharField(
        label=_("单据类型为"),
        max_length=500,
        required=False,
        help_text=_("多个类型用逗号分隔；留空表示不限。"),
    )

    def has_changed(self):
        # An untouched extra row (only defaults) is not a step.
        return (
            bool(
                self.data.get(self.add_prefix("name"))
                or self.data.get(self.add_prefix("approver_user"))
                or self.data.get(self.add_prefix("approver_role"))
                or self.data.get(self.add_prefix("approver_type")) == ApprovalStep.ApproverType.MANAGER
            )
            if self.is_bound
            else super().has_changed()
        )

    def step_values(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("DELETE", None)
        data.pop("ORDER", None)
        return data


class BaseStepFormSet(forms.BaseFormSet):
    def steps_in_order(self) -> list[dict]:
        """The kept steps sorted by their 顺序 field; a row left without one keeps its position."""
        rows = []
        for index, form in enumerate(self.forms):
            if index >= self.initial_form_count() and not form.has_changed():
                continue
            if self._should_delete_form(form):
                continue
            order = form.cleaned_data.get("ORDER")
            rows.append((index + 1 if order is None else order, index, form.step_values()))
        return [values for _order, _index, values in sorted(rows, key=lambda row: row[:2])]


StepFormSet = forms.formset_factory(
    StepForm, formset=BaseStepFormSet, extra=1, can_delete=True, can_order=True, max_num=20
)


def step_initial(flow: ApprovalFlow | None) -> list[dict]:
    if flow is None:
        return []
    return [
        {
            "name": s.name,
            "approver_type": s.approver_type,
            "approver_user": s.approver_user_id,
            "approver_role": s.approver_role_id,
            "mode": s.mode,
            "min_amount": s.min_amount,
            "max_amount": s.max_amount,
            "doc_types": ", ".join(s.doc_types or []),
            "ORDER": s.order,
        }
        for s in flow.steps.all().order_by("order")
    ]
