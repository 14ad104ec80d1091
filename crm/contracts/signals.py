"""Signals of the contract life cycle, sent inside the transaction that makes the change, so a
receiver's writes (points, purchase records, customer status) commit or roll back with it.

- contract_approved(sender=Contract, contract=…, actor=…): the contract just became 已审批.
- contract_voided(sender=Contract, contract=…, actor=…): an approved contract was voided.
"""

from django.dispatch import Signal

contract_approved = Signal()
contract_voided = Signal()
