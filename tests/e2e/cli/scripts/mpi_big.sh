#!/bin/bash -l
#SBATCH -J lammps_melt
#SBATCH -N 4
#SBATCH --ntasks-per-node=32
#SBATCH -t 12:00:00
#SBATCH -p compute
#SBATCH -A chem123
#SBATCH --exclusive
#SBATCH --mail-type=END,FAIL
#SBATCH --mail-user=someone@example.org

module purge
module load lammps/2023
srun lmp -in in.melt
