# Township land stations (乡镇国土所): the fifth division level, with 9-digit codes (county + 3).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('parcels', '0003_layer_public'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='division',
            name='division_code_6_digits',
        ),
        migrations.AlterField(
            model_name='division',
            name='code',
            field=models.CharField(max_length=9, primary_key=True, serialize=False, verbose_name='code'),
        ),
        migrations.AlterField(
            model_name='division',
            name='level',
            field=models.CharField(choices=[('station', 'Township land station'), ('county', 'County'), ('city', 'City'), ('province', 'Province'), ('nation', 'Nation')], max_length=16, verbose_name='level'),
        ),
        migrations.AddConstraint(
            model_name='division',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('code__regex', '^[0-9]{9}$'), ('code__startswith', models.F('parent_id')), ('level', 'station')), models.Q(models.Q(('level', 'station'), _negated=True), ('code__regex', '^[0-9]{6}$')), _connector='OR'), name='division_code_digits_by_level'),
        ),
    ]
