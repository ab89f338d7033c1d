{{ braze_currents__typed_event() }}
