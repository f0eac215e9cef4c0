"""Chat assistant of the immigration service unit (UKK) Kota Probolinggo."""
