package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Setting returns the value stored under key, or ErrNotFound.
func (d *DB) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := d.r.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("db: read setting %s: %w", key, err)
	}
	return v, nil
}

// SetSetting stores value under key, replacing any earlier value.
func (d *DB) SetSetting(ctx context.Context, key, value string) error {
	_, err := d.w.ExecContext(ctx, `INSERT INTO settings(key, value) VALUES (?, ?)
		ON CONFLICT(key) DO UPDATE SET value = excluded.value`, key, value)
	if err != nil {
		return fmt.Errorf("db: write setting %s: %w", key, err)
	}
	return nil
}

// SettingOrCreate returns the value under key; when absent it stores the
// value made by create and returns it. Used for keys generated once.
func (d *DB) SettingOrCreate(ctx context.Context, key string, create func() (string, error)) (string, error) {
	v, err := d.Setting(ctx, key)
	if err == nil {
		return v, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return "", err
	}
	v, err = create()
	if err != nil {
		return "", err
	}
	if _, err := d.w.ExecContext(ctx, `INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO NOTHING`, key, v); err != nil {
		return "", fmt.Errorf("db: write setting %s: %w", key, err)
	}
	return d.Setting(ctx, key)
}
