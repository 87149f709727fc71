/** The all-zero UUID: a valid uuid that no row has, for "nobody" and for statements that must match nothing. */
export const NIL_UUID = '00000000-0000-0000-0000-000000000000';
