"""The rules: one module per rule, in a folder per family (``size/jt101_apt_lists_not_removed.py``).

:func:`jettison.rules.registry.all_rules` imports every module below this package, which
registers each rule: a new rule file is picked up without a list to edit. Importing this
package alone (for :mod:`jettison.rules.codes`, say) loads no rule.
"""
