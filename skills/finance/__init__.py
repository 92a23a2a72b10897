"""Money: expenses and income, categories, statements, bank feeds, invoices, job costing."""
