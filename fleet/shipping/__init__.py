"""Shipping online orders: the courier interface, an aggregator's adapter and its
simulator, and the worker that asks for each sold booking's airway bill."""
